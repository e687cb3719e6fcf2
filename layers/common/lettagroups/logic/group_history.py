"""A group's transcript: list, modify and reset (contract §4.10, §4.11). Kept apart from the sends
(`group_messages`) so that these functions do not import the run machinery on a cold start."""

from __future__ import annotations

from typing import Optional

from ..dal import messages as messages_dal
from ..errors import NotFoundError
from ..models.groups import ListOrder
from ..models.identity import Actor
from ..models.messages import LettaMessageBase, MessageUpdate
from ..models.records import RequestConfig
from . import message_edits, transcripts
from .groups import load_group


def list_messages(
    actor: Actor,
    group_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: int = 10,
    order: Optional[ListOrder] = None,
    use_assistant_message: bool = True,
    assistant_message_tool_name: str = "send_message",
    assistant_message_tool_kwarg: str = "message",
) -> list[LettaMessageBase]:
    """The group's transcript, a page anchored at the cursor (contract §4.10; `order` as `transcripts.page`)."""
    load_group(actor, group_id)
    config = RequestConfig(
        use_assistant_message=use_assistant_message,
        assistant_message_tool_name=assistant_message_tool_name,
        assistant_message_tool_kwarg=assistant_message_tool_kwarg,
    )
    sources = [transcripts.Source(group_id)]
    return transcripts.page(actor.organization_id, sources, after=after, before=before, limit=limit, order=order, config=config)


def modify_message(actor: Actor, group_id: str, message_id: str, request: MessageUpdate) -> LettaMessageBase:
    load_group(actor, group_id)
    message = messages_dal.get_message(actor.organization_id, group_id, message_id)
    if message is None:
        raise NotFoundError(f"No message found with id '{message_id}'")
    return message_edits.apply(actor.organization_id, message, request)


def reset_messages(actor: Actor, group_id: str) -> None:
    load_group(actor, group_id)
    messages_dal.delete_conversation_messages(actor.organization_id, group_id)
