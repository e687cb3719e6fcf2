"""Stored messages → LettaMessages (contract §4.10, §6) and the input envelopes the model sees (§7.3).

One stored message may yield several LettaMessages that share its id; each gets an `otid` derived from the
message id and its part index, except a user or system input, which keeps the `otid` its sender supplied.
Listed messages carry `sender_id` and `step_id`; live ones (streamed or returned by a send) carry neither, and a
live tool return shows the raw return string instead of the packed envelope.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Optional, Union

from ..ids import otid_for, uuid_part
from .messages import (
    AssistantMessage,
    HiddenReasoningMessage,
    LettaMessageBase,
    ReasoningMessage,
    SystemMessage,
    ToolCall,
    ToolCallMessage,
    ToolReturnMessage,
    UserMessage,
)
from .records import RequestConfig
from .stored import StoredMessage

LOCAL_TIME_FORMAT = "%Y-%m-%d %I:%M:%S %p %Z%z"


def local_time(when: Optional[datetime] = None) -> str:
    """`YYYY-MM-DD HH:MM:SS AM/PM TZ±hhmm` in the process's local zone (UTC on Lambda), as Letta formats it."""
    value = when or datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().strftime(LOCAL_TIME_FORMAT).strip()


def pack_user(text: str, when: Optional[datetime] = None) -> str:
    return json.dumps({"type": "user_message", "message": text, "time": local_time(when)}, indent=2, ensure_ascii=False)


def pack_system_alert(text: str, when: Optional[datetime] = None) -> str:
    return json.dumps({"type": "system_alert", "message": text, "time": local_time(when)})


def pack_tool_return(ok: bool, message: str, when: Optional[datetime] = None) -> str:
    """The envelope stored as a tool message's text (`{"status": "OK"|"Failed", "message", "time"}`)."""
    return json.dumps({"status": "OK" if ok else "Failed", "message": message, "time": local_time(when)}, ensure_ascii=False)


def unpack_message(text: str) -> str:
    """The `message` field of a JSON envelope, or the text itself (edited messages hold raw text)."""
    try:
        envelope = json.loads(text)
    except (ValueError, TypeError):
        return text
    if isinstance(envelope, dict) and "message" in envelope:
        return str(envelope["message"])
    return text


def parse_arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments or "{}")
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def send_message_texts(message: StoredMessage, tool_name: str = "send_message", kwarg: str = "message") -> list[str]:
    """The texts an assistant message said through the message tool (what other agents hear)."""
    texts = []
    for call in message.tool_calls or []:
        function = call.get("function") or {}
        if function.get("name") == tool_name:
            args = parse_arguments(function.get("arguments"))
            if kwarg in args:
                texts.append(str(args[kwarg]))
    return texts


def _tool_status(message: StoredMessage) -> str:
    for ret in message.tool_returns or []:
        if ret.get("status") in ("success", "error"):
            return str(ret["status"])
    try:
        envelope = json.loads(message.text())
    except (ValueError, TypeError):
        return "success"
    if isinstance(envelope, dict) and envelope.get("status") == "Failed":
        return "error"
    return "success"


def _raw_tool_return(message: StoredMessage) -> str:
    for ret in message.tool_returns or []:
        if isinstance(ret.get("raw"), str):
            return str(ret["raw"])
    return unpack_message(message.text())


def to_letta_messages(
    stored: Union[StoredMessage, Iterable[StoredMessage]],
    *,
    use_assistant_message: bool = True,
    assistant_message_tool_name: str = "send_message",
    assistant_message_tool_kwarg: str = "message",
    live: bool = False,
) -> list[LettaMessageBase]:
    """Convert stored messages, in order, to the LettaMessages a client sees."""
    messages = [stored] if isinstance(stored, StoredMessage) else list(stored)
    out: list[LettaMessageBase] = []
    for message in messages:
        out.extend(
            _convert(
                message,
                use_assistant_message=use_assistant_message,
                tool_name=assistant_message_tool_name,
                kwarg=assistant_message_tool_kwarg,
                live=live,
            )
        )
    return out


def _convert(
    message: StoredMessage, *, use_assistant_message: bool, tool_name: str, kwarg: str, live: bool
) -> list[LettaMessageBase]:
    base: dict[str, Any] = {
        "id": message.id,
        "date": message.created_at,
        "name": message.name,
        "sender_id": None if live else message.sender_id,
        "step_id": None if live else message.step_id,
    }
    if message.role in ("user", "system"):  # a client input keeps the otid it was sent with (§2.4, §3.5)
        otid = message.otid or otid_for(message.id, 0)
        if message.role == "user":
            return [UserMessage(**base, otid=otid, content=unpack_message(message.text()))]
        return [SystemMessage(**base, otid=otid, content=message.text())]
    if message.role == "tool":
        if use_assistant_message and message.name == tool_name:
            return []
        return [
            ToolReturnMessage(
                **base,
                otid=otid_for(message.id, 0) if live else uuid_part(message.id),
                tool_return=_raw_tool_return(message) if live else message.text(),
                status=_tool_status(message),  # type: ignore[arg-type]
                tool_call_id=message.tool_call_id or "",
            )
        ]
    return _convert_assistant(message, base, use_assistant_message=use_assistant_message, tool_name=tool_name, kwarg=kwarg)


def _convert_assistant(
    message: StoredMessage, base: dict[str, Any], *, use_assistant_message: bool, tool_name: str, kwarg: str
) -> list[LettaMessageBase]:
    out: list[LettaMessageBase] = []

    def otid() -> str:
        return otid_for(message.id, len(out))

    for part in message.content:
        kind = part.get("type")
        if kind == "text" and part.get("text"):
            out.append(ReasoningMessage(**base, otid=otid(), reasoning=str(part["text"])))
        elif kind == "reasoning":
            out.append(
                ReasoningMessage(
                    **base,
                    otid=otid(),
                    source="reasoner_model" if part.get("is_native") else "non_reasoner_model",
                    reasoning=str(part.get("reasoning") or ""),
                    signature=part.get("signature"),
                )
            )
        elif kind == "redacted_reasoning":
            out.append(HiddenReasoningMessage(**base, otid=otid(), state="redacted", hidden_reasoning=part.get("data")))
        elif kind == "omitted_reasoning":
            out.append(HiddenReasoningMessage(**base, otid=otid(), state="omitted"))
    for call in message.tool_calls or []:
        function = call.get("function") or {}
        name = str(function.get("name") or "")
        arguments = function.get("arguments")
        arguments = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
        if use_assistant_message and name == tool_name:
            args = parse_arguments(arguments)
            if kwarg in args:
                out.append(AssistantMessage(**base, otid=otid(), content=str(args[kwarg])))
                continue
        out.append(
            ToolCallMessage(
                **base, otid=otid(), tool_call=ToolCall(name=name, arguments=arguments, tool_call_id=str(call.get("id") or ""))
            )
        )
    return out


def present_all(
    messages: Sequence[StoredMessage], config: Optional[RequestConfig] = None, *, live: bool = False
) -> list[LettaMessageBase]:
    """Every stored message as LettaMessages, in the given order, with a request's assistant-message settings (and,
    when it names some, only the `include_return_message_types`)."""
    config = config or RequestConfig()
    wanted = config.include_return_message_types
    out: list[LettaMessageBase] = []
    for message in messages:
        out.extend(
            to_letta_messages(
                message,
                use_assistant_message=config.use_assistant_message,
                assistant_message_tool_name=config.assistant_message_tool_name,
                assistant_message_tool_kwarg=config.assistant_message_tool_kwarg,
                live=live,
            )
        )
    if wanted is not None:
        out = [m for m in out if m.message_type in wanted]
    return out
