"""Sending to a group (contract §4.7-§4.9, §7.6a, §12a): who runs, in what order, on the shared run machinery
(`sending`). Listing, editing and resetting the transcript are `group_history`."""

from __future__ import annotations

from typing import Any, Optional

from ..dal import groups as groups_dal
from ..errors import BadRequestError, NotFoundError
from ..models.identity import Actor
from ..models.messages import (
    LettaAsyncRequest,
    LettaRequest,
    LettaResponse,
    LettaStreamingRequest,
)
from ..models.runs import Run
from ..models.stored_entities import AgentRecord, GroupRecord
from ..orchestration import lifecycle
from ..orchestration.state import MAX_TURNS_CAP, SWARM_DEFAULT_MAX_TURNS
from . import sending
from .groups import load_group

DESCRIPTION_IN_PROMPT = 8000  # what a run carries of the group's description (participants' instructions, §7.4)


def check_runnable(group: GroupRecord, agents: dict[str, AgentRecord]) -> None:
    """The pre-run checks of §4.7 that concern the group: each failure is an ordinary JSON error, before anything runs
    (the inputs are checked by `sending.check_inputs`)."""
    wanted = list(dict.fromkeys([*([group.manager_agent_id] if group.manager_agent_id else []), *group.agent_ids]))
    missing = [a for a in wanted if a not in agents]
    if missing:
        raise NotFoundError(f"Agent not found with id={missing[0]}")
    if not group.agent_ids:
        raise BadRequestError("Empty group: group must have at least one agent")
    if group.manager_type == "swarm":
        names = [agents[a].name or a for a in group.agent_ids]
        if len(set(names)) != len(names):
            raise BadRequestError("participant names must be unique for handoffs")
    if group.manager_type == "voice_sleeptime" and len(group.agent_ids) != 1:
        raise BadRequestError("A voice_sleeptime group needs exactly one sleeptime agent")


def roster(group: GroupRecord, agents: dict[str, AgentRecord], since: dict[str, str]) -> lifecycle.Roster:
    n = len(group.agent_ids)
    swarm = group.manager_type == "swarm"
    return lifecycle.Roster(
        manager_type=group.manager_type,
        agent_ids=list(group.agent_ids),  # the roster as the run starts: a PATCH during it changes the next run
        manager_agent_id=group.manager_agent_id,
        member_since={a: since[a] for a in group.agent_ids if a in since},
        max_turns=min(group.max_turns or (SWARM_DEFAULT_MAX_TURNS if swarm else n), MAX_TURNS_CAP),
        termination_token=group.termination_token,
        active_agent_id=group.swarm_next_agent() if swarm else None,
        description=group.description[:DESCRIPTION_IN_PROMPT],
        agent_names={a: agent.name or a for a, agent in agents.items()},
        context_after=group.context_after_message_id if group.manager_type == "voice_sleeptime" else None,
    )


def group_target(actor: Actor, group: GroupRecord, metadata: Optional[dict[str, Any]] = None) -> sending.Target:
    """A send to a group: its agents, their memberships and the group's head in one BatchGetItem, then the checks."""
    group_id = group.id
    wanted = [*([group.manager_agent_id] if group.manager_agent_id else []), *group.agent_ids]
    agents, since, head = groups_dal.get_run_roster(actor.organization_id, group_id, wanted)
    check_runnable(group, agents)
    return sending.Target(
        conversation_id=group_id,
        group_id=group_id,
        roster=roster(group, agents, since),
        head=head,
        metadata={"group_id": group_id, **(metadata or {})},
    )


def send_message(
    actor: Actor, group_id: str, request: LettaRequest, *, idempotency_key: Optional[str] = None, retried: bool = False
) -> LettaResponse:
    return sending.send_sync(
        actor, group_target(actor, load_group(actor, group_id)), request, idempotency_key=idempotency_key, retried=retried
    )


def send_message_async(
    actor: Actor, group_id: str, request: LettaAsyncRequest, *, idempotency_key: Optional[str] = None, retried: bool = False
) -> Run:
    target = group_target(actor, load_group(actor, group_id))
    return sending.send_async(
        actor, target, request, callback_url=request.callback_url, idempotency_key=idempotency_key, retried=retried
    )


def send_message_stream(
    actor: Actor, group_id: str, request: LettaStreamingRequest, *, idempotency_key: Optional[str] = None, retried: bool = False
) -> sending.Opened:
    target = group_target(actor, load_group(actor, group_id))
    return sending.send_stream(
        actor, target, request, stream_tokens=request.stream_tokens, idempotency_key=idempotency_key, retried=retried
    )
