"""Sending to a group and managing its transcript (contract §4.7-§4.11, §7.6a, §12a)."""

from __future__ import annotations

import json
import os
import time
from typing import Any, Optional

from ..agent.inputs import first_text, input_from_create
from ..dal import groups as groups_dal
from ..dal import messages as messages_dal
from ..dal import runs as runs_dal
from ..errors import BadRequestError, GatewayTimeoutError, NotFoundError
from ..ids import new_id
from ..models import presentation
from ..models.groups import ListOrder
from ..models.identity import Actor
from ..models.messages import (
    LettaAsyncRequest,
    LettaMessageBase,
    LettaRequest,
    LettaResponse,
    LettaUsageStatistics,
    MessageCreate,
    MessageUpdate,
)
from ..models.records import RequestConfig, RunRecord
from ..models.runs import Run
from ..models.stored import StoredMessage
from ..orchestration import lifecycle, starter
from ..orchestration.failure import RunFailure
from ..orchestration.policies.swarm import DEFAULT_MAX_TURNS as SWARM_DEFAULT_MAX_TURNS
from ..orchestration.state import MAX_TURNS_CAP, RunState
from .groups import check_window, load_group, swarm_next_agent

POLL_INITIAL_SECONDS = 0.02
POLL_MAX_SECONDS = 0.25
DESCRIPTION_IN_PROMPT = 8000  # what a run carries of the group's description (participants' instructions, §7.4)


def sync_timeout_seconds() -> float:
    return float(os.environ.get("SYNC_SEND_TIMEOUT_SECONDS", "120"))


def _check_inputs(messages: list[MessageCreate]) -> None:
    for message in messages:
        if message.role not in ("user", "system"):
            raise BadRequestError(f"Invalid message role: {message.role}")
        if not first_text(message):
            raise BadRequestError("Message content is empty or invalid")


def check_runnable(group: dict[str, Any], agents: dict[str, dict[str, Any]], request: LettaRequest) -> None:
    """The pre-run checks of §4.7: each failure is an ordinary JSON error, before anything runs."""
    wanted = list(dict.fromkeys([*([group["manager_agent_id"]] if group.get("manager_agent_id") else []), *group["agent_ids"]]))
    missing = [a for a in wanted if a not in agents]
    if missing:
        raise NotFoundError(f"Agent not found with id={missing[0]}")
    if not group["agent_ids"]:
        raise BadRequestError("Empty group: group must have at least one agent")
    if group["manager_type"] == "swarm":
        names = [str(agents[a].get("name") or a) for a in group["agent_ids"]]
        if len(set(names)) != len(names):
            raise BadRequestError("participant names must be unique for handoffs")
    if group["manager_type"] == "voice_sleeptime" and len(group["agent_ids"]) != 1:
        raise BadRequestError("A voice_sleeptime group needs exactly one sleeptime agent")
    _check_inputs(request.messages)


def _roster(group: dict[str, Any], agents: dict[str, dict[str, Any]], since: dict[str, str]) -> lifecycle.Roster:
    n = len(group["agent_ids"])
    swarm = group["manager_type"] == "swarm"
    return lifecycle.Roster(
        manager_type=group["manager_type"],
        agent_ids=list(group["agent_ids"]),  # the roster as the run starts: a PATCH during it changes the next run
        manager_agent_id=group.get("manager_agent_id"),
        member_since={a: since[a] for a in group["agent_ids"] if a in since},
        max_turns=min(group.get("max_turns") or (SWARM_DEFAULT_MAX_TURNS if swarm else n), MAX_TURNS_CAP),
        termination_token=group.get("termination_token"),
        active_agent_id=swarm_next_agent(group) if swarm else None,
        description=str(group.get("description") or "")[:DESCRIPTION_IN_PROMPT],
        agent_names={a: str(agents[a].get("name") or a) for a in agents},
        context_after=group.get("context_after_message_id") if group["manager_type"] == "voice_sleeptime" else None,
    )


def begin_run(
    actor: Actor, group_id: str, request: LettaRequest, *, callback_url: Optional[str] = None, stream_tokens: bool = False
) -> RunState:
    """Checks (reads: the group, then its agents, memberships and lock in one batch), then the conversation taken
    and the run written with its inputs in one transaction. The execution is not started yet."""
    group = load_group(actor, group_id)
    wanted = [*([group["manager_agent_id"]] if group.get("manager_agent_id") else []), *group["agent_ids"]]
    agents, since, _head = groups_dal.get_run_roster(actor.organization_id, group_id, wanted)
    check_runnable(group, agents, request)
    run_id = new_id("run")
    org = actor.organization_id
    inputs = [input_from_create(org, group_id, m, group_id=group_id, run_id=run_id) for m in request.messages]
    config = RequestConfig(
        use_assistant_message=request.use_assistant_message,
        assistant_message_tool_name=request.assistant_message_tool_name,
        assistant_message_tool_kwarg=request.assistant_message_tool_kwarg,
        stream_tokens=stream_tokens,
    )
    return lifecycle.begin(
        actor,
        conversation_id=group_id,
        group_id=group_id,
        roster=_roster(group, agents, since),
        inputs=inputs,
        config=config,
        callback_url=callback_url,
        run_id=run_id,
    )


def start_run(
    actor: Actor, group_id: str, request: LettaRequest, *, callback_url: Optional[str] = None, stream_tokens: bool = False
) -> RunState:
    """Begin the run and start its execution without waiting for it (async sends and streams)."""
    state = begin_run(actor, group_id, request, callback_url=callback_url, stream_tokens=stream_tokens)
    lifecycle.start(state)
    return state


def wait_for_run(actor: Actor, run_id: str, timeout: float) -> RunRecord:
    """Poll the run record until it is finished (strongly consistent reads, short backoff): for a run that went on
    in another execution than the one a synchronous send waited for."""
    deadline = time.monotonic() + timeout
    delay = POLL_INITIAL_SECONDS
    while True:
        run = runs_dal.get_run(actor.organization_id, run_id)
        if run is None:
            raise NotFoundError(f"Run not found with id={run_id}")
        if run.finished:
            return run
        if time.monotonic() >= deadline:
            raise GatewayTimeoutError(f"Run {run_id} is still running; follow it with GET /v1/runs/{run_id}")
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX_SECONDS)


def response_messages(actor: Actor, conversation_id: str, ids: list[str], config: RequestConfig) -> list[LettaMessageBase]:
    stored = messages_dal.get_messages(actor.organization_id, conversation_id, ids)
    return presentation.present_all(stored, config.model_dump(), live=True)  # get_messages answers in id order


def _finished_run(actor: Actor, state: RunState, outcome: starter.Outcome, deadline: float) -> RunRecord:
    """The run record of a run whose execution did not hand back a completed state."""
    run = runs_dal.get_run(actor.organization_id, state.run_id)
    if run is None:
        raise NotFoundError(f"Run not found with id={state.run_id}")
    if run.finished:
        return run
    final = (outcome.output or {}).get("run") or {}
    if outcome.status == "SUCCEEDED" and final.get("next") == "continue":
        return wait_for_run(actor, state.run_id, max(0.0, deadline - time.monotonic()))
    return lifecycle.settle(actor.organization_id, run)  # the execution ended without finishing the run


def send_message(actor: Actor, group_id: str, request: LettaRequest) -> LettaResponse:
    timeout = sync_timeout_seconds()
    deadline = time.monotonic() + timeout
    state = begin_run(actor, group_id, request)
    try:
        outcome = lifecycle.run_sync(state, timeout)
    except starter.StillRunning as exc:
        raise GatewayTimeoutError(f"Run {state.run_id} is still running; follow it with GET /v1/runs/{state.run_id}") from exc
    final = (outcome.output or {}).get("run") if outcome.status == "SUCCEEDED" else None
    if final is not None and final.get("status") == "completed":
        done = RunState.model_validate(final)
        usage = LettaUsageStatistics(**done.usage.model_dump(), run_ids=done.run_ids)
        messages = response_messages(actor, group_id, sorted(done.response_ids), done.config)
        return LettaResponse.model_construct(messages=messages, usage=usage)
    run = _finished_run(actor, state, outcome, deadline)
    if run.status != "completed":
        raise RunFailure.of(run.failure).to_error(run.id)
    usage = LettaUsageStatistics.model_validate(run.usage or {})
    return LettaResponse.model_construct(
        messages=response_messages(actor, group_id, run.response_message_ids, run.request_config), usage=usage
    )


def send_message_async(actor: Actor, group_id: str, request: LettaAsyncRequest) -> Run:
    state = start_run(actor, group_id, request, callback_url=request.callback_url)
    run = runs_dal.get_run(actor.organization_id, state.run_id)
    if run is None:
        raise NotFoundError(f"Run not found with id={state.run_id}")
    return run.to_run()


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
    """The group's transcript, a page anchored at the cursor (contract §4.10).

    `order` is later Letta's: `asc` (oldest first) or `desc` (newest first, the exact reverse), with cursors
    relative to it (with `desc`, `after` pages towards older messages). Without it (None) the page is 0.7.7's:
    as `asc`, except that with no cursor it holds the newest `limit` messages.
    """
    org = actor.organization_id
    load_group(actor, group_id)
    for cursor in (after, before):
        if cursor and messages_dal.get_message(org, group_id, cursor) is None:
            raise NotFoundError(f"No message found with id '{cursor}'")
    check_window(after, before, order or "asc")
    if limit == 0:
        return []
    descending = order == "desc"
    # In time order the window is (older, newer); the scan starts at the page's anchor: `after`, else
    # `before`, else the start of the list (0.7.7's default starts at the newest end).
    older, newer = (before, after) if descending else (after, before)
    anchored_at_newer = bool(after) == descending if (after or before) else order != "asc"
    config = {
        "use_assistant_message": use_assistant_message,
        "assistant_message_tool_name": assistant_message_tool_name,
        "assistant_message_tool_kwarg": assistant_message_tool_kwarg,
    }
    while True:
        stored = messages_dal.list_messages(org, group_id, after=older, before=newer, limit=limit, descending=anchored_at_newer)
        presented = presentation.present_all(sorted(stored, key=lambda m: m.id), config)
        if presented or len(stored) < limit or order is None:
            break
        # Every stored message of this page presents as nothing (e.g. send_message tool returns): an empty page
        # would end an auto-paginating client (letta-client 1.x) although more messages follow, so read on past
        # them. 0.7.7's page (no order) keeps counting them and may come back empty (contract §4.10).
        if anchored_at_newer:
            newer = stored[-1].id
        else:
            older = stored[-1].id
    return presented[::-1] if descending else presented


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


def modify_message(actor: Actor, group_id: str, message_id: str, request: MessageUpdate) -> LettaMessageBase:
    org = actor.organization_id
    load_group(actor, group_id)
    message = messages_dal.get_message(org, group_id, message_id)
    if message is None:
        raise NotFoundError(f"No message found with id '{message_id}'")
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
    if not messages_dal.update_message(org, group_id, message):
        raise NotFoundError(f"No message found with id '{message_id}'")
    for presented in presentation.to_letta_messages(message):
        if presented.message_type == kind:
            return presented
    raise BadRequestError(f"Message type got modified: {kind}")


def reset_messages(actor: Actor, group_id: str) -> None:
    load_group(actor, group_id)
    messages_dal.delete_conversation_messages(actor.organization_id, group_id)
