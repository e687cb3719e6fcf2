"""Building the stored messages that are an agent step's inputs: client messages, deliveries from
other agents, and the tool returns that resume a paused step. Kept apart from the step itself, so the
API functions that write a run's inputs do not import the agent runtime."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Optional

from ..ids import new_id
from ..models.messages import MessageCreate, TextContent
from ..models.presentation import pack_system_alert, pack_tool_return, pack_user
from ..models.stored import StoredMessage


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_input_message(
    org_id: str,
    conversation_id: str,
    *,
    role: str,
    text: str,
    group_id: Optional[str] = None,
    run_id: Optional[str] = None,
    agent_id: Optional[str] = None,
    recipient_id: Optional[str] = None,
    name: Optional[str] = None,
    otid: Optional[str] = None,
    sender_id: Optional[str] = None,
    batch_item_id: Optional[str] = None,
    pack: bool = True,
) -> StoredMessage:
    """A user or system input, packed as the model sees it (§7.3). `recipient_id` limits who sees it."""
    if role not in ("user", "system"):
        raise ValueError(f"Invalid message role: {role}")
    now = utc_now()
    content = text if not pack else (pack_user(text, now) if role == "user" else pack_system_alert(text, now))
    return StoredMessage(
        id=new_id("message"),
        organization_id=org_id,
        conversation_id=conversation_id,
        group_id=group_id,
        agent_id=agent_id or recipient_id,
        role=role,  # type: ignore[arg-type]
        content=[{"type": "text", "text": content}],
        name=name,
        otid=otid,
        sender_id=sender_id,
        batch_item_id=batch_item_id,
        run_id=run_id,
        created_at=now,
        recipient_id=recipient_id,
    )


def first_text(create: MessageCreate) -> Optional[str]:
    """The text a client message carries: its string content, or its first part when that part is text."""
    if isinstance(create.content, str):
        return create.content
    first = create.content[0] if create.content else None
    return first.text if isinstance(first, TextContent) else None


def input_from_create(
    org_id: str,
    conversation_id: str,
    create: MessageCreate,
    *,
    group_id: Optional[str] = None,
    run_id: Optional[str] = None,
    recipient_id: Optional[str] = None,
) -> StoredMessage:
    """A client's `MessageCreate` as a stored input (only the first content part counts, and it must be text)."""
    return build_input_message(
        org_id,
        conversation_id,
        role=create.role,
        text=first_text(create) or "",
        group_id=group_id,
        run_id=run_id,
        recipient_id=recipient_id,
        name=create.name,
        otid=create.otid,
        sender_id=create.sender_id,
        batch_item_id=create.batch_item_id,
    )


def build_tool_return_message(
    org_id: str,
    conversation_id: str,
    *,
    agent_id: str,
    tool_call_id: str,
    tool_name: str,
    raw: str,
    status: str = "success",
    group_id: Optional[str] = None,
    run_id: Optional[str] = None,
    model: Optional[str] = None,
    step_id: Optional[str] = None,
    now: Optional[datetime] = None,
) -> StoredMessage:
    """The result of a tool: one the caller ran for a paused step (pass it as the input of the resuming step), or
    one the step ran itself (with its model and step id)."""
    now = now or utc_now()
    return StoredMessage(
        id=new_id("message"),
        organization_id=org_id,
        conversation_id=conversation_id,
        group_id=group_id,
        agent_id=agent_id,
        role="tool",
        content=[{"type": "text", "text": pack_tool_return(status == "success", raw, now)}],
        name=tool_name,
        model=model,
        tool_call_id=tool_call_id,
        tool_returns=[{"status": status, "raw": raw}],
        step_id=step_id,
        run_id=run_id,
        created_at=now,
    )
