"""Unit tests for streaming/frames.py (the data of each SSE frame, contract §6) and the run event log
(dal/events.py: gap-free sequence numbers, at-most-once appends), the latter against the `emulation` moto."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime

import pytest

from lettagroups.dal import events as events_dal
from lettagroups.dal import runs as runs_dal
from lettagroups.models.messages import (
    AssistantMessage,
    LettaUsageStatistics,
    ReasoningMessage,
    ToolCall,
    ToolCallDelta,
    ToolCallMessage,
)
from lettagroups.models.records import RunRecord
from lettagroups.streaming import frames

WHEN = datetime(2025, 5, 5, 18, 0, 1, 123456)  # naive: rendered as UTC, to the second


def test_message_frame_is_compact_ascii_json_in_schema_order() -> None:
    # Given an assistant message with non-ASCII text
    message = AssistantMessage(id="message-1", date=WHEN, name="fred", otid="o-1", content="héllo ✓")
    # When it becomes a frame
    data = frames.message_frame(message)
    # Then: compact, ASCII only (\uXXXX escapes), common keys first in schema order, nulls kept
    assert data == (
        '{"id":"message-1","date":"2025-05-05T18:00:01+00:00","name":"fred","message_type":"assistant_message",'
        '"otid":"o-1","sender_id":null,"step_id":null,"content":"h\\u00e9llo \\u2713"}'
    )
    assert data.isascii()


def test_tool_call_frames_omit_null_keys() -> None:
    # Given a whole tool call and a token-mode delta, both with null common fields
    whole = ToolCallMessage(id="message-2", date=WHEN, tool_call=ToolCall(name="t", arguments="{}", tool_call_id="call_1"))
    delta = ToolCallMessage(id="message-2", date=WHEN, name="fred", tool_call=ToolCallDelta(arguments='{"a"'))
    # When they become frames, Then null keys are gone at every level (§6.2)
    assert json.loads(frames.message_frame(whole)) == {
        "id": "message-2",
        "date": "2025-05-05T18:00:01+00:00",
        "message_type": "tool_call_message",
        "tool_call": {"name": "t", "arguments": "{}", "tool_call_id": "call_1"},
    }
    assert frames.message_frame(delta) == (
        '{"id":"message-2","date":"2025-05-05T18:00:01+00:00","name":"fred","message_type":"tool_call_message",'
        '"tool_call":{"arguments":"{\\"a\\""}}'
    )


def test_delta_frame_drops_nulls_only_for_tool_calls() -> None:
    # Given event dicts as the token translator produces them
    reasoning = ReasoningMessage(id="message-3", date=WHEN, reasoning="thinking").model_dump(mode="json")
    call = {"id": "message-3", "date": "d", "name": None, "message_type": "tool_call_message", "tool_call": {"name": "x"}}
    # Then reasoning keeps its null keys and a tool call loses them
    assert json.loads(frames.delta_frame(reasoning))["sender_id"] is None
    assert "name" not in json.loads(frames.delta_frame(call))


def test_usage_frame_has_no_steps_messages_and_a_fixed_key_order() -> None:
    # Given usage with steps_messages set (as the JSON response may carry it)
    usage = LettaUsageStatistics(completion_tokens=2, prompt_tokens=3, total_tokens=5, step_count=1, steps_messages=[[]])
    # Then the SSE usage event is exactly §6.3's shape
    assert frames.usage_frame(usage) == (
        '{"message_type":"usage_statistics","completion_tokens":2,"prompt_tokens":3,"total_tokens":5,'
        '"step_count":1,"run_ids":null}'
    )
    usage.run_ids = ["run-1"]
    assert json.loads(frames.usage_frame(usage))["run_ids"] == ["run-1"]


@pytest.mark.parametrize(
    ("detail", "code", "expected"),
    [
        ("boom", None, '{"error":"Stream failed (internal error occurred)"}'),
        (None, None, '{"error":"Stream failed (internal error occurred)"}'),
        ("boom", "some_other_code", '{"error":"Stream failed (internal error occurred)"}'),
        ("too long", "context_window_exceeded", '{"error":"Stream failed: too long","code":"context_window_exceeded"}'),
        ("slow down", "rate_limit_exceeded", '{"error":"Stream failed: slow down","code":"rate_limit_exceeded"}'),
    ],
)
def test_error_frame(detail: str | None, code: str | None, expected: str) -> None:
    # Given an in-run failure, Then only rate limits and context overflows say what happened (§6.4)
    assert frames.error_frame(detail, code) == expected


def test_sse_framing() -> None:
    # An event with and without its sequence number, the terminator, a multi-line payload, the keep-alive
    assert frames.sse(7, '{"a":1}') == b'id: 7\ndata: {"a":1}\n\n'
    assert frames.sse(None, frames.DONE) == b"data: [DONE]\n\n"
    assert frames.sse(1, "a\nb\r\nc") == b"id: 1\ndata: a\ndata: b\ndata: c\n\n"
    assert frames.sse(2, "") == b"id: 2\ndata: \n\n"
    assert frames.KEEPALIVE.startswith(b":") and frames.KEEPALIVE.endswith(b"\n\n")


# --- the event log ----------------------------------------------------------------------------------


@pytest.fixture
def run_id(actor) -> str:
    run = RunRecord(id=f"run-{uuid.uuid4()}", status="running", created_at="2026-01-01T00:00:00+00:00", conversation_id="group-x")
    assert runs_dal.create_run_once(actor.organization_id, run)
    return run.id


def test_appends_are_numbered_without_gaps_even_when_concurrent(actor, run_id: str) -> None:
    # Given eight writers appending three frames each at the same time, each believing the log is empty
    org = actor.organization_id
    results: list[int] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        last = events_dal.append(org, run_id, [f"w{i}-{j}" for j in range(3)], after_seq=0)
        with lock:
            results.append(last)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then every frame has its own number, 1..24, each writer's three frames consecutive and in order
    assert sorted(results) == [3 * (i + 1) for i in range(8)]
    frames_read = events_dal.read(org, run_id, 0)
    assert [s for s, _ in frames_read] == list(range(1, 25))
    for last in results:
        block = [d for s, d in frames_read if last - 3 < s <= last]
        writer = block[0].split("-")[0]
        assert block == [f"{writer}-{j}" for j in range(3)]
    # and reading after a sequence number returns only what follows it, wherever its item starts
    assert [s for s, _ in events_dal.read(org, run_id, 20)] == [21, 22, 23, 24]
    assert events_dal.last_seq(org, run_id) == 24


def test_a_transaction_writing_at_a_taken_sequence_number_writes_nothing(actor, run_id: str) -> None:
    # Given a log holding frames 1-2
    org = actor.organization_id
    assert events_dal.append(org, run_id, ["a", "b"]) == 2
    # When a transaction (say, a retried step whose state still says the log ends at 0) puts its frames at 1
    from lettagroups.dal.items import ConditionFailed, transact

    with pytest.raises(ConditionFailed):
        transact(events_dal.put_actions(org, run_id, 0, ["stale"]))
    # Then nothing of it is written, and a write after the real end goes on from 3
    assert events_dal.put_actions(org, run_id, 2, ["c"])[0]["Put"]["Item"]["seq"] == {"N": "3"}
    transact(events_dal.put_actions(org, run_id, 2, ["c"]))
    assert [d for _, d in events_dal.read(org, run_id, 0)] == ["a", "b", "c"]


def test_large_appends_are_split_but_stay_in_order(actor, run_id: str) -> None:
    # Given more frames than one item holds
    org = actor.organization_id
    data = [f"f{i}" for i in range(events_dal.MAX_FRAMES_PER_ITEM * 3 + 5)]
    # When appended at once
    last = events_dal.append(org, run_id, data)
    # Then they are numbered in order, and read back whole from any point
    assert last == len(data)
    assert [d for _, d in events_dal.read(org, run_id, 0, limit=1000)] == data
    assert [s for s, _ in events_dal.read(org, run_id, 77, limit=1000)] == list(range(78, len(data) + 1))
