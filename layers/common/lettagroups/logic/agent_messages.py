"""Messaging an agent: `/v1/agents/{agent_id}/messages` and the routes around it (contract §10, issue #10).

An agent that manages a sleeptime, voice_sleeptime, supervisor or dynamic group runs that group's pattern when it is
messaged (Letta 0.7.7's behaviour, and how sleeptime groups are normally driven): the send goes to the group's
conversation, as a group send would. Any other agent runs alone in a conversation of its own (its id). Either way it
is the same run machinery as a group's (`sending`): one run at a time per conversation, resumable streams,
retry-safe sends, and each message stored once. An agent's message list is what it took part in: its own
conversation and, as it sees them (§7.2), the groups it manages or belongs to.
"""

from __future__ import annotations

from typing import Optional

from ..dal import agents as agents_dal
from ..dal import groups as groups_dal
from ..dal import messages as messages_dal
from ..errors import NotFoundError
from ..models.agents import AgentState
from ..models.groups import ListOrder, is_storable_id
from ..models.identity import Actor
from ..models.messages import (
    LettaAsyncRequest,
    LettaMessageBase,
    LettaRequest,
    LettaResponse,
    LettaStreamingRequest,
    MessageUpdate,
)
from ..models.records import ConversationHead
from ..models.runs import Run
from ..models.stored_entities import AgentRecord, GroupRecord
from ..orchestration import lifecycle
from ..orchestration.state import ALONE
from . import group_messages, message_edits, sending, transcripts
from .agents import agent_not_found, retrieve_agent

GROUP_PATTERNS = ("sleeptime", "voice_sleeptime", "supervisor", "dynamic")


def _agent_and_head(actor: Actor, agent_id: str) -> tuple[AgentRecord, ConversationHead]:
    if not is_storable_id(agent_id):
        raise agent_not_found(agent_id)
    agent, head = agents_dal.get_agent_and_head(actor.organization_id, agent_id)
    if agent is None:
        raise agent_not_found(agent_id)
    return agent, head


def _managed_group(actor: Actor, agent: AgentRecord) -> Optional[GroupRecord]:
    """The group whose pattern the agent runs when messaged (an agent manages at most one group)."""
    managed = sorted(agent.managed_group_ids)
    if not managed:
        return None
    groups = groups_dal.get_groups(actor.organization_id, managed)
    return next((g for g in reversed(groups) if g.manager_type in GROUP_PATTERNS), None)


def target(actor: Actor, agent_id: str) -> sending.Target:
    """Where a message to the agent goes (reads: the agent and its conversation's head in one batch; the group it
    manages, and that group's roster, when it has one)."""
    agent, head = _agent_and_head(actor, agent_id)
    group = _managed_group(actor, agent)
    if group is not None:
        return group_messages.group_target(actor, group, metadata={"agent_id": agent_id})
    roster = lifecycle.Roster(manager_type=ALONE, agent_ids=[agent_id], agent_names={agent_id: agent.name or agent_id})
    return sending.Target(conversation_id=agent_id, group_id=None, roster=roster, head=head, metadata={"agent_id": agent_id})


def send_message(
    actor: Actor, agent_id: str, request: LettaRequest, *, idempotency_key: Optional[str] = None, retried: bool = False
) -> LettaResponse:
    return sending.send_sync(actor, target(actor, agent_id), request, idempotency_key=idempotency_key, retried=retried)


def send_message_async(
    actor: Actor, agent_id: str, request: LettaAsyncRequest, *, idempotency_key: Optional[str] = None, retried: bool = False
) -> Run:
    return sending.send_async(
        actor,
        target(actor, agent_id),
        request,
        callback_url=request.callback_url,
        idempotency_key=idempotency_key,
        retried=retried,
    )


def send_message_stream(
    actor: Actor, agent_id: str, request: LettaStreamingRequest, *, idempotency_key: Optional[str] = None, retried: bool = False
) -> sending.Opened:
    return sending.send_stream(
        actor,
        target(actor, agent_id),
        request,
        stream_tokens=request.stream_tokens,
        idempotency_key=idempotency_key,
        retried=retried,
    )


def _sources(actor: Actor, agent: AgentRecord, group_id: Optional[str]) -> list[transcripts.Source]:
    """The conversations the agent takes part in: its own, then each group it manages or belongs to, as it sees it."""
    agent_id = agent.id
    groups = list(
        dict.fromkeys([*sorted(agent.managed_group_ids), *groups_dal.list_memberships(actor.organization_id, agent_id)])
    )
    if group_id is not None:
        return [transcripts.Source(group_id, viewer=agent_id)] if group_id in groups else []
    return [transcripts.Source(agent_id), *(transcripts.Source(g, viewer=agent_id) for g in groups)]


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
    agent, _ = _agent_and_head(actor, agent_id)
    sources = _sources(actor, agent, group_id)
    config = {
        "use_assistant_message": use_assistant_message,
        "assistant_message_tool_name": assistant_message_tool_name,
        "assistant_message_tool_kwarg": assistant_message_tool_kwarg,
    }
    return transcripts.page(actor.organization_id, sources, after=after, before=before, limit=limit, order=order, config=config)


def modify_message(actor: Actor, agent_id: str, message_id: str, request: MessageUpdate) -> LettaMessageBase:
    agent, _ = _agent_and_head(actor, agent_id)
    found = (
        transcripts.find(actor.organization_id, _sources(actor, agent, None), message_id) if is_storable_id(message_id) else None
    )
    if found is None:
        raise NotFoundError(f"No message found with id '{message_id}'")
    return message_edits.apply(actor.organization_id, found[1], request)


def reset_messages(actor: Actor, agent_id: str) -> AgentState:
    """Delete the messages of the agent's conversation (the group's, for an agent that runs a group's pattern)."""
    agent, _ = _agent_and_head(actor, agent_id)
    group = _managed_group(actor, agent)
    messages_dal.delete_conversation_messages(actor.organization_id, group.id if group else agent_id)
    return retrieve_agent(actor, agent_id)


def is_voice_agent(actor: Actor, agent_id: str) -> bool:
    agent, _ = _agent_and_head(actor, agent_id)
    return agent.agent_type == "voice_convo_agent"
