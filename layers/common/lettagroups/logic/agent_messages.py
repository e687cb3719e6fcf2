"""Messaging an agent: the sends of `/v1/agents/{agent_id}/messages` (sync, stream, async; contract §10, issue #10).

An agent that manages a sleeptime, voice_sleeptime, supervisor or dynamic group runs that group's pattern when it is
messaged (Letta 0.7.7's behaviour, and how sleeptime groups are normally driven): the send goes to the group's
conversation, as a group send would. Any other agent runs alone in a conversation of its own (its id). Either way it
is the same run machinery as a group's (`sending`): one run at a time per conversation, resumable streams,
retry-safe sends, and each message stored once. Listing, editing and resetting are `agent_history`.
"""

from __future__ import annotations

from typing import Optional

from ..errors import BadRequestError
from ..models.identity import Actor
from ..models.messages import LettaAsyncRequest, LettaRequest, LettaResponse, LettaStreamingRequest
from ..models.runs import Run
from ..orchestration import lifecycle
from ..orchestration.state import ALONE
from . import group_messages, sending
from .agent_routing import agent_and_head, managed_groups, pattern_group


def target(actor: Actor, agent_id: str, *, voice_only: bool = False) -> sending.Target:
    """Where a message to the agent goes (reads: the agent and its conversation's head in one batch; the group it
    manages, and that group's roster, when it has one). `voice_only`: a 400 unless it is a voice agent."""
    agent, head = agent_and_head(actor, agent_id)
    if voice_only and agent.agent_type != "voice_convo_agent":
        raise BadRequestError(f"Agent {agent_id} is not a voice agent: only a voice_convo_agent answers chat completions")
    group = pattern_group(managed_groups(actor, agent))
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
