"""Stored message → LettaMessage conversion (contract §4.10, §6) and the input envelopes (§7.3). No storage."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from lettagroups.ids import new_id, otid_for, uuid_part
from lettagroups.models.messages import dump_message
from lettagroups.models.presentation import (
    local_time,
    pack_system_alert,
    pack_tool_return,
    pack_user,
    to_letta_messages,
    unpack_message,
)
from lettagroups.models.stored import StoredMessage

WHEN = datetime(2025, 5, 5, 18, 4, 11, 123456, tzinfo=UTC)


def stored(role: str, **fields: Any) -> StoredMessage:
    base: dict[str, Any] = {
        "id": new_id("message"),
        "organization_id": "org-1",
        "conversation_id": "group-1",
        "role": role,
        "created_at": WHEN,
        "step_id": "step-1" if role in ("assistant", "tool") else None,
    }
    base.update(fields)
    return StoredMessage(**base)


def send(text: str, tool: str = "send_message", kwarg: str = "message") -> list[dict[str, Any]]:
    return [{"id": "call_1", "type": "function", "function": {"name": tool, "arguments": json.dumps({kwarg: text})}}]


def test_assistant_reply_becomes_reasoning_then_assistant_sharing_the_id():
    # Given a stored assistant message with inner thoughts and a send_message call
    m = stored("assistant", name="fred", content=[{"type": "text", "text": "thinking"}], tool_calls=send("hello"), sender_id="x")
    # When listed
    reasoning, assistant = to_letta_messages(m)
    # Then: reasoning first, assistant second, same id, otids with part indexes 0 and 1
    assert (reasoning.message_type, assistant.message_type) == ("reasoning_message", "assistant_message")
    assert reasoning.id == assistant.id == m.id
    assert (reasoning.otid, assistant.otid) == (otid_for(m.id, 0), otid_for(m.id, 1))
    assert assistant.content == "hello" and reasoning.reasoning == "thinking"  # type: ignore[attr-defined]
    assert reasoning.name == "fred" and assistant.step_id == "step-1" and assistant.sender_id == "x"
    # And the wire form follows the contract's key order and date format
    wire = dump_message(reasoning)
    assert list(wire)[:7] == ["id", "date", "name", "message_type", "otid", "sender_id", "step_id"]
    assert wire["date"] == "2025-05-05T18:04:11+00:00"


def test_live_messages_carry_no_sender_or_step():
    m = stored("assistant", content=[{"type": "text", "text": "t"}], tool_calls=send("hi"), sender_id="x")
    assert all(x.sender_id is None and x.step_id is None for x in to_letta_messages(m, live=True))


def test_without_assistant_messages_send_message_is_a_tool_call_and_its_return_shows():
    # Given a send_message call and its stored return
    call = stored("assistant", content=[], tool_calls=send("hello"))
    ret = stored(
        "tool",
        name="send_message",
        tool_call_id="call_1",
        content=[{"type": "text", "text": pack_tool_return(True, "None", WHEN)}],
    )
    # When listed with use_assistant_message (default), the return is dropped
    assert [x.message_type for x in to_letta_messages([call, ret])] == ["assistant_message"]
    # And without it, both appear
    listed = to_letta_messages([call, ret], use_assistant_message=False)
    assert [x.message_type for x in listed] == ["tool_call_message", "tool_return_message"]
    wire = dump_message(listed[0])
    assert wire["tool_call"] == {"name": "send_message", "arguments": json.dumps({"message": "hello"}), "tool_call_id": "call_1"}
    assert "sender_id" not in wire  # tool calls omit null keys


def test_custom_assistant_tool_name_and_kwarg():
    m = stored("assistant", tool_calls=send("yo", tool="reply", kwarg="text"))
    (only,) = to_letta_messages(m, assistant_message_tool_name="reply", assistant_message_tool_kwarg="text")
    assert only.message_type == "assistant_message" and only.content == "yo"  # type: ignore[attr-defined]
    (default,) = to_letta_messages(m)
    assert default.message_type == "tool_call_message"


def test_tool_return_listed_packed_live_raw():
    # Given a failed tool return
    packed = pack_tool_return(False, "boom", WHEN)
    m = stored(
        "tool",
        name="core_memory_append",
        tool_call_id="call_9",
        content=[{"type": "text", "text": packed}],
        tool_returns=[{"status": "error", "raw": "boom"}],
    )
    (listed,) = to_letta_messages(m)
    (live,) = to_letta_messages(m, live=True)
    # Then the listing shows the envelope, the live one the raw string; both are named after the tool
    assert listed.tool_return == packed and live.tool_return == "boom"  # type: ignore[attr-defined]
    assert json.loads(packed)["status"] == "Failed"
    assert listed.status == "error" and listed.name == "core_memory_append"  # type: ignore[attr-defined]
    assert listed.otid == uuid_part(m.id) and live.otid == otid_for(m.id, 0)
    # And a return without stored status is read from the envelope
    bare = stored("tool", name="t", tool_call_id="c", content=[{"type": "text", "text": pack_tool_return(True, "ok", WHEN)}])
    assert to_letta_messages(bare)[0].status == "success"  # type: ignore[attr-defined]


def test_user_content_is_unpacked_and_system_kept_as_is():
    user = stored("user", name="ana", sender_id="identity-1", content=[{"type": "text", "text": pack_user("hi there", WHEN)}])
    edited = stored("user", content=[{"type": "text", "text": "raw edit"}])
    system = stored("system", content=[{"type": "text", "text": pack_system_alert("note", WHEN)}])
    u, e, s = to_letta_messages([user, edited, system])
    assert (u.message_type, u.content, u.name, u.sender_id) == ("user_message", "hi there", "ana", "identity-1")  # type: ignore[attr-defined]
    assert e.content == "raw edit"  # type: ignore[attr-defined]
    assert s.message_type == "system_message" and s.content == pack_system_alert("note", WHEN)  # type: ignore[attr-defined]
    assert json.loads(s.content)["message"] == "note"  # type: ignore[attr-defined]


def test_hidden_and_native_reasoning_parts():
    m = stored(
        "assistant",
        content=[
            {"type": "reasoning", "is_native": True, "reasoning": "deep", "signature": "sig"},
            {"type": "redacted_reasoning", "data": "xxx"},
            {"type": "omitted_reasoning"},
        ],
        tool_calls=send("done"),
    )
    native, redacted, omitted, assistant = to_letta_messages(m)
    assert native.source == "reasoner_model" and native.signature == "sig"  # type: ignore[attr-defined]
    assert (redacted.state, redacted.hidden_reasoning) == ("redacted", "xxx")  # type: ignore[attr-defined]
    assert omitted.state == "omitted"  # type: ignore[attr-defined]
    assert assistant.otid == otid_for(m.id, 3)


def test_envelopes_match_letta():
    # Given a time
    user = json.loads(pack_user("hi", WHEN))
    alert = pack_system_alert("x", WHEN)
    # Then the user envelope is indented, the system alert uses default separators, and the time is Letta's format
    assert pack_user("hi", WHEN).startswith('{\n  "type": "user_message"')
    assert alert.startswith('{"type": "system_alert", "message": "x", "time": ')
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (AM|PM) \S*[+-]\d{4}", user["time"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (AM|PM) \S*[+-]\d{4}", local_time())
    assert unpack_message(pack_user("ünïcode", WHEN)) == "ünïcode"
    assert unpack_message("not json") == "not json"
