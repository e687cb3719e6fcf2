"""What one model call of an agent step produces: the tool call it made, and the stored messages that record it."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from ..models.stored import StoredMessage
from .inputs import build_tool_return_message
from .providers.base import ChatResponse, ToolCallOut
from .providers.errors import MalformedToolCallError
from .streaming import INNER_THOUGHTS
from .tools import ToolSpec

_INNER_THOUGHTS_SCHEMA = {"type": "string", "description": "Deep inner monologue private to you only."}


@dataclass
class Call:
    """One tool call of the model, its arguments parsed, Letta's inner thoughts taken out of them."""

    id: str
    name: str
    args: dict[str, Any]
    thoughts: Optional[str]


def parse_call(call: ToolCallOut) -> Call:
    try:
        args = json.loads(call.arguments or "{}")
    except ValueError as exc:
        raise MalformedToolCallError(f"tool call {call.name!r} has arguments that are not JSON") from exc
    if not isinstance(args, dict) or not call.name:
        raise MalformedToolCallError(f"tool call {call.name!r} has arguments that are not a JSON object")
    thoughts = args.pop(INNER_THOUGHTS, None)
    return Call(
        id=call.id or f"call_{uuid.uuid4().hex[:24]}", name=call.name, args=args, thoughts=str(thoughts) if thoughts else None
    )


def tool_schema(spec: ToolSpec, inner_thoughts: bool) -> dict[str, Any]:
    """A tool's JSON schema as the model sees it; with Letta's convention, inner thoughts are its first argument."""
    schema = copy.deepcopy(spec.schema)
    schema.setdefault("name", spec.name)
    if inner_thoughts:
        params = schema.setdefault("parameters", {"type": "object", "properties": {}, "required": []})
        params["properties"] = {INNER_THOUGHTS: _INNER_THOUGHTS_SCHEMA, **(params.get("properties") or {})}
        params["required"] = [INNER_THOUGHTS, *[r for r in params.get("required") or [] if r != INNER_THOUGHTS]]
    return schema


@dataclass(frozen=True)
class Author:
    """Who writes a step's messages, and where they go."""

    org_id: str
    conversation_id: str
    group_id: Optional[str]
    run_id: Optional[str]
    agent_id: str
    agent_name: str
    model: Optional[str]
    share_replies: bool


def assistant_message(
    author: Author, message_id: str, step_id: str, response: ChatResponse, call: Optional[Call], now: datetime
) -> StoredMessage:
    content: list[dict[str, Any]] = []
    if response.reasoning:
        content.append(
            {"type": "reasoning", "is_native": True, "reasoning": response.reasoning, "signature": response.reasoning_signature}
        )
    if response.redacted_reasoning:
        content.append({"type": "redacted_reasoning", "data": response.redacted_reasoning})
    if response.text:
        content.append({"type": "text", "text": response.text})
    if call is not None and call.thoughts:
        content.append({"type": "text", "text": call.thoughts})
    tool_calls = None
    if call is not None:
        arguments = json.dumps(call.args, ensure_ascii=False)
        tool_calls = [{"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}]
    return StoredMessage(
        id=message_id,
        organization_id=author.org_id,
        conversation_id=author.conversation_id,
        group_id=author.group_id,
        agent_id=author.agent_id,
        role="assistant",
        content=content,
        name=author.agent_name,
        model=author.model,
        tool_calls=tool_calls,
        step_id=step_id,
        run_id=author.run_id,
        created_at=now,
        shared=author.share_replies,
    )


def tool_message(author: Author, step_id: str, call: Call, raw: str, status: str, now: datetime) -> StoredMessage:
    return build_tool_return_message(
        author.org_id,
        author.conversation_id,
        agent_id=author.agent_id,
        tool_call_id=call.id,
        tool_name=call.name,
        raw=raw,
        status=status,
        group_id=author.group_id,
        run_id=author.run_id,
        model=author.model,
        step_id=step_id,
        now=now,
    )
