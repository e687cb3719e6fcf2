"""An agent's messages: list, modify and reset (`/v1/agents/{agent_id}/messages`, `…/reset-messages`).

An agent's message list is what it took part in: its own conversation and, as it sees them (§7.2), the groups it
manages or belongs to. Reset empties the conversation a message to the agent would go to (`agent_routing`).
"""

from __future__ import annotations

from typing import Optional

from ..dal import groups as groups_dal
from ..dal import messages as messages_dal
from ..errors import NotFoundError
from ..models.agents import AgentState
from ..models.groups import ListOrder, is_storable_id
from ..models.identity import Actor
from ..models.messages import LettaMessageBase, MessageUpdate
from ..models.records import RequestConfig
from ..models.stored_entities import AgentRecord
from . import message_edits, transcripts
from .agent_routing import managed_groups, pattern_group
from .agents import load_agent, to_agent_state


def _sources(actor: Actor, agent: AgentRecord, group_id: Optional[str]) -> list[transcripts.Source]:
    """The conversations the agent takes part in: its own, then each group it manages (all of it) or belongs to
    (from when it joined), as it sees them."""
    agent_id = agent.id
    managed = sorted(agent.managed_group_ids)
    member_of = groups_dal.memberships(actor.organization_id, agent_id)
    groups = [
        transcripts.Source(g, viewer=agent_id, since=None if g in managed else member_of[g])
        for g in dict.fromkeys([*managed, *member_of])
    ]
    if group_id is not None:
        return [s for s in groups if s.conversation_id == group_id]
    return [transcripts.Source(agent_id), *groups]


def list_messages(
    actor: Actor,
    agent_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: int = 10,
    group_id: Optional[str] = None,
    order: Optional[ListOrder] = None,
    use_assistant_message: bool = True,
    assistant_message_tool_name: str = "send_message",
    assistant_message_tool_kwarg: str = "message",
) -> list[LettaMessageBase]:
    """What the agent took part in, a page anchored at the cursor like a group's transcript (contract §4.10)."""
    agent = load_agent(actor, agent_id)
    sources = _sources(actor, agent, group_id)
    config = RequestConfig(
        use_assistant_message=use_assistant_message,
        assistant_message_tool_name=assistant_message_tool_name,
        assistant_message_tool_kwarg=assistant_message_tool_kwarg,
    )
    return transcripts.page(actor.organization_id, sources, after=after, before=before, limit=limit, order=order, config=config)


def modify_message(actor: Actor, agent_id: str, message_id: str, request: MessageUpdate) -> LettaMessageBase:
    agent = load_agent(actor, agent_id)
    found = (
        transcripts.find(actor.organization_id, _sources(actor, agent, None), message_id) if is_storable_id(message_id) else None
    )
    if found is None:
        raise NotFoundError(f"No message found with id '{message_id}'")
    return message_edits.apply(actor.organization_id, found[1], request)


def reset_messages(actor: Actor, agent_id: str) -> AgentState:
    """Delete the messages of the agent's conversation (the group's, for an agent that runs a group's pattern)."""
    agent = load_agent(actor, agent_id)
    groups = managed_groups(actor, agent)
    group = pattern_group(groups)
    messages_dal.delete_conversation_messages(actor.organization_id, group.id if group else agent_id)
    return to_agent_state(actor, agent, groups={g.id: g for g in groups})
