"""Editing a stored message (contract §4.9), whichever door the edit came through (a group's or an agent's)."""

from __future__ import annotations

import json

from ..dal import messages as messages_dal
from ..errors import BadRequestError, NotFoundError
from ..models import presentation
from ..models.messages import LettaMessageBase, MessageUpdate
from ..models.stored import StoredMessage


def _presentable_type(message: StoredMessage) -> str | None:
    if message.role == "user":
        return "user_message"
    if message.role == "system":
        return "system_message"
    if message.role == "assistant" and any(
        (c.get("function") or {}).get("name") == "send_message" for c in message.tool_calls or []
    ):
        return "assistant_message"
    return None


def apply(org_id: str, message: StoredMessage, request: MessageUpdate) -> LettaMessageBase:
    """Apply the edit (the type inferred when `message_type` is absent), store it, and answer with the edited message
    as the LettaMessage of that type."""
    kind: str
    if request.message_type is not None:
        kind = request.message_type
    elif request.reasoning is not None:
        kind = "reasoning_message"
    else:
        kind = _presentable_type(message) or f"{message.role}_message"
    new_text = request.content if isinstance(request.content, str) else "".join(p.text for p in request.content or [])
    if kind == "assistant_message":
        if _presentable_type(message) != "assistant_message":
            raise BadRequestError(f"Message type got modified: {kind}")
        calls = []
        for call in message.tool_calls or []:
            function = dict(call.get("function") or {})
            if function.get("name") == "send_message":
                arguments = presentation.parse_arguments(function.get("arguments"))
                arguments["message"] = new_text
                function["arguments"] = json.dumps(arguments, ensure_ascii=False)
            calls.append({**call, "function": function})
        message.tool_calls = calls
    elif kind == "reasoning_message":
        if message.role != "assistant":
            raise BadRequestError(f"Message type got modified: {kind}")
        message.content = [{"type": "text", "text": request.reasoning or ""}]
    elif kind in ("user_message", "system_message"):
        if _presentable_type(message) != kind or request.content is None:
            raise BadRequestError(f"Message type got modified: {kind}")
        message.content = [{"type": "text", "text": new_text}]
    else:
        raise BadRequestError(f"Message type got modified: {kind}")
    if not messages_dal.update_message(org_id, message.conversation_id, message):
        raise NotFoundError(f"No message found with id '{message.id}'")
    for presented in presentation.to_letta_messages(message):
        if presented.message_type == kind:
            return presented
    raise BadRequestError(f"Message type got modified: {kind}")
