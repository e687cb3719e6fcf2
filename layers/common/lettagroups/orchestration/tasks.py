"""The tasks of the group-run state machine, one function per `action`.

Every task is idempotent: agent steps are keyed by (run, step key) and written all-or-nothing
with a step record, so a task re-run by Step Functions finds its step done and returns the
same result instead of writing twice. Tasks take and return the small `$.run` state (ids and
counters only); messages stay in DynamoDB.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..agent.catalog import BROADCAST_TOOL, supervisor_tool_rules
from ..dal import agents as agents_dal
from ..dal import events as events_dal
from ..dal import groups as groups_dal
from ..dal import runs as runs_dal
from ..errors import StorageUnavailableError
from ..models.messages import LettaUsageStatistics
from ..observability import logger
from ..streaming import frames
from . import agent_steps, callbacks, sleeptime
from .context import MAX_TURNS_CAP, RetryableStepError, RunContext, StepFailedError

SUPERVISOR_RULES = supervisor_tool_rules()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _group(ctx: RunContext, *, renew_lock: bool = False) -> dict[str, Any]:
    """The group, read fresh by every task. `renew_lock`: before an agent step, extend the run's hold on the
    group (§7.6a), or fail the run if it lost it, so that two runs never interleave their turns."""
    group = groups_dal.get_group(ctx.org_id, ctx.group_id)
    if group is None:
        raise StepFailedError(json.dumps({"status": 404, "detail": f"Group not found with id={ctx.group_id}"}))
    if renew_lock and not runs_dal.renew_group_lock(ctx.org_id, ctx.group_id, ctx.run_id):
        raise StepFailedError(f"run {ctx.run_id} no longer holds the lock of group {ctx.group_id}")
    return group


def round_robin_appendix(group: dict[str, Any]) -> str:
    """Group-chat instructions for a round robin participant, for the request only (contract §7.4)."""
    others = max(len(group["agent_ids"]) - 1, 0)
    return (
        "%%% GROUP CHAT CONTEXT %%%\n"
        f"You are participating in a group chat with {others} other participants.\n"
        f"Group chat description: {group.get('description') or ''}\n\n"
        "GROUP CHAT GUIDELINES:\n"
        "1. Others can see your messages; all participants share the conversation.\n"
        "2. Build on what others have contributed instead of repeating it.\n"
        "3. Stay on topic while bringing your own perspective.\n"
        "4. Be concise: others are waiting for their turn.\n"
        "5. Keep your own personality and voice.\n"
        "6. Ask the other participants questions when it helps the conversation.\n"
        "7. Acknowledge and answer when someone addresses you directly.\n"
        "8. Share the knowledge you have that is relevant to the discussion."
    )


def dynamic_participant_appendix(group: dict[str, Any]) -> str:
    return (
        "You are a participant in a group chat with other agents and one user. Respond when it is your turn, "
        f"in your own voice. Group chat description: {group.get('description') or ''}\nAbout you: see your persona block."
    )


def dynamic_manager_appendix(group: dict[str, Any]) -> str:
    return (
        f"You are overseeing a group chat with {len(group['agent_ids'])} agents and one user. "
        f"Group chat description: {group.get('description') or ''}\n"
        "Each turn you receive the chat history and must decide which agent speaks next. "
        "The memory blocks labelled with agent ids describe the agents."
    )


def _agent_ids(state: dict[str, Any], group: dict[str, Any]) -> list[str]:
    return list(state.get("agent_ids") or group["agent_ids"])


def _manager(state: dict[str, Any], group: dict[str, Any]) -> str:
    return str(state.get("manager_agent_id") or group["manager_agent_id"])


def prepare(state: dict[str, Any], **_: Any) -> dict[str, Any]:
    ctx = RunContext.from_state(state)
    group = _group(ctx)
    runs_dal.update_run(ctx.org_id, ctx.run_id, {"status": "running", "updated_at": _now()})
    n = len(group["agent_ids"])
    max_turns = min(group.get("max_turns") or n, MAX_TURNS_CAP)
    state = {
        **state,
        "manager_type": group["manager_type"],
        # The roster as the run started: a PATCH of the group during the run changes the next run, not this one.
        "agent_ids": list(group["agent_ids"]),
        "manager_agent_id": group.get("manager_agent_id"),
        "turn": 0,
        "max_turns": max_turns,
        "done": max_turns <= 0,
        "prev": None,
    }
    if group["manager_type"] == "dynamic":
        agent_steps.prepare_dynamic_manager(ctx, group)
    return state


def round_robin_turn(state: dict[str, Any], **_: Any) -> dict[str, Any]:
    ctx = RunContext.from_state(state)
    group = _group(ctx, renew_lock=True)
    turn = state["turn"]
    agent_ids = _agent_ids(state, group)
    speaker = agent_ids[turn % len(agent_ids)]
    agent_steps.agent_step(
        ctx,
        speaker,
        inputs=[],
        step_key=f"t{turn:03d}-{speaker}",
        share_replies=True,
        system_appendix=round_robin_appendix(group),
        history_after=agent_steps.membership_cut(ctx, speaker),
    )
    turn += 1
    return {**state, "turn": turn, "done": turn >= state["max_turns"]}


def dynamic_select(state: dict[str, Any], **_: Any) -> dict[str, Any]:
    """The manager names the next speaker (contract §8.3); the termination token in its reply ends the run."""
    ctx = RunContext.from_state(state)
    group = _group(ctx, renew_lock=True)
    agent_ids = _agent_ids(state, group)
    prev = state.get("prev")
    options = [a for i, a in enumerate(agent_ids) if i != prev] or list(agent_ids)
    agents = agents_dal.get_agents(ctx.org_id, agent_ids)
    names = {a: agents[a]["name"] if a in agents else a for a in agent_ids}
    manager = _manager(state, group)
    prompt = (
        "Choose the most suitable agent to reply to the latest message in the group chat from the following options: "
        f"[{', '.join(f'{a} ({names[a]})' for a in options)}]. Do not respond to the messages yourself, your task is only "
        "to decide the next speaker, not to answer the question. Reply with the name of the next speaker.\n\nChat history:\n"
        + "\n".join(agent_steps.chat_history_lines(ctx))
    )
    selection = agent_steps.build_input(ctx, role="user", text=prompt, recipient_id=manager, sender_id=manager)
    outcome = agent_steps.agent_step(
        ctx,
        manager,
        inputs=[selection],
        step_key=f"t{state['turn']:03d}-manager",
        share_replies=False,
        system_appendix=dynamic_manager_appendix(group),
    )
    reply = outcome.assistant_texts[0] if outcome.assistant_texts else ""
    token = group.get("termination_token")
    if token and token in reply:
        return {**state, "done": True, "stop_reason": "termination_token"}
    chosen = None
    lowered = reply.lower()
    for agent_id in options:
        if names[agent_id].lower() in lowered:
            chosen = agent_id  # the last match wins
    if chosen is None:
        index = 0 if prev is None else (prev + 1) % len(agent_ids)
    else:
        index = agent_ids.index(chosen)
    return {**state, "speaker": index}


def dynamic_speak(state: dict[str, Any], **_: Any) -> dict[str, Any]:
    ctx = RunContext.from_state(state)
    group = _group(ctx, renew_lock=True)
    index = state["speaker"]
    speaker = _agent_ids(state, group)[index]
    outcome = agent_steps.agent_step(
        ctx,
        speaker,
        inputs=[],
        step_key=f"t{state['turn']:03d}-speaker",
        share_replies=True,
        system_appendix=dynamic_participant_appendix(group),
        history_after=agent_steps.membership_cut(ctx, speaker),
    )
    turn = state["turn"] + 1
    token = group.get("termination_token")
    terminated = bool(token) and any(str(token) in text for text in outcome.assistant_texts)
    done = terminated or turn >= state["max_turns"]
    return {**state, "turn": turn, "prev": index, "done": done, **({"stop_reason": "termination_token"} if terminated else {})}


def supervisor_broadcast(state: dict[str, Any], **_: Any) -> dict[str, Any]:
    """The supervisor's first step; it stops at the broadcast call so that a Map state runs the workers."""
    ctx = RunContext.from_state(state)
    group = _group(ctx, renew_lock=True)
    outcome = agent_steps.agent_step(
        ctx,
        _manager(state, group),
        inputs=[],
        step_key="supervisor-1",
        share_replies=False,
        extra_tools=[BROADCAST_TOOL],
        tool_rules_override=SUPERVISOR_RULES,
        stop_after_tools={BROADCAST_TOOL},
    )
    broadcast = outcome.paused_tool_call is not None
    return {**state, "broadcast": broadcast, "worker_ids": _agent_ids(state, group) if broadcast else []}


def worker_step(state: dict[str, Any], worker_id: str, index: int, **_: Any) -> dict[str, Any]:
    ctx = RunContext.from_state(state)
    group = _group(ctx)
    supervisor_id = _manager(state, group)
    call = agent_steps.paused_tool_call(ctx, "supervisor-1")
    supervisor = agents_dal.get_agent(ctx.org_id, supervisor_id) or {"name": supervisor_id}
    message = str((call.get("arguments") or {}).get("message", ""))
    text = (
        f"[Incoming message from agent with ID '{supervisor_id}' - to reply to this message, make sure to use the "
        f"'send_message' at the end, and the system will notify the sender of your response] {message}"
    )
    delivery = agent_steps.build_input(
        ctx, role="system", text=text, recipient_id=worker_id, sender_id=supervisor_id, name=supervisor["name"]
    )
    outcome = agent_steps.agent_step(
        ctx,
        worker_id,
        inputs=[delivery],
        step_key=f"worker-{index:03d}-{worker_id}",
        share_replies=False,
        stream=False,
        history_after=agent_steps.membership_cut(ctx, worker_id),
    )
    if outcome.assistant_texts:
        result = f"{worker_id} said: '" + "\n".join(outcome.assistant_texts) + "'"
    else:
        result = f"No response from {worker_id}"
    return {"agent_id": worker_id, "result": result}


def worker_failed(state: dict[str, Any], worker_id: str, error: dict[str, Any], **_: Any) -> dict[str, Any]:
    cause = error.get("Cause") or error.get("Error") or "unknown error"
    try:
        cause = json.loads(cause).get("errorMessage", cause)
    except (ValueError, AttributeError):
        pass
    return {"agent_id": worker_id, "result": f"(Error on attempt 3/3 for agent {worker_id}: {cause})"}


def supervisor_reply(state: dict[str, Any], workers: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
    ctx = RunContext.from_state(state)
    group = _group(ctx, renew_lock=True)
    call = agent_steps.paused_tool_call(ctx, "supervisor-1")
    by_agent = {w["agent_id"]: w["result"] for w in workers}
    supervisor = _manager(state, group)
    results = [by_agent.get(a, f"No response from {a}") for a in (state.get("worker_ids") or _agent_ids(state, group))]
    tool_return = agent_steps.build_tool_return(ctx, supervisor, call, str(results))
    agent_steps.agent_step(
        ctx,
        supervisor,
        inputs=[tool_return],
        step_key="supervisor-2",
        share_replies=False,
        extra_tools=[BROADCAST_TOOL],
        tool_rules_override=SUPERVISOR_RULES,
        after_tool=BROADCAST_TOOL,
    )
    return state


def main_agent_turn(state: dict[str, Any], **_: Any) -> dict[str, Any]:
    """sleeptime / voice_sleeptime: the main agent answers; background work happens in finalize."""
    ctx = RunContext.from_state(state)
    group = _group(ctx, renew_lock=True)
    # voice_sleeptime: the trimmed buffer starts after the last evicted message (contract §8.5)
    history_after = group.get("context_after_message_id") if group["manager_type"] == "voice_sleeptime" else None
    agent_steps.agent_step(
        ctx, _manager(state, group), inputs=[], step_key="main", share_replies=False, history_after=history_after
    )
    return state


def _usage(group: dict[str, Any], records: list[dict[str, Any]]) -> LettaUsageStatistics:
    """Usage by manager type (contract §7.5)."""
    usage = LettaUsageStatistics()
    manager_type = group["manager_type"]
    for record in records:
        if manager_type == "supervisor" and record.get("agent_id") != group.get("manager_agent_id"):
            continue  # worker tokens are not included
        part = record.get("usage") or {}
        usage.completion_tokens += int(part.get("completion_tokens", 0))
        usage.prompt_tokens += int(part.get("prompt_tokens", 0))
        usage.total_tokens += int(part.get("total_tokens", 0))
        if manager_type in ("round_robin", "dynamic"):
            usage.step_count += 1  # one per agent turn (manager and participant count separately)
        else:
            usage.step_count += int(part.get("step_count", 1))
    return usage


def _response_ids(group: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    streamed: set[str] | None
    if group["manager_type"] in ("round_robin", "dynamic"):
        streamed = None  # every agent of the run speaks to the client
    else:
        streamed = {group.get("manager_agent_id") or ""}
    return sorted(
        message_id
        for record in records
        if streamed is None or record.get("agent_id") in streamed
        for message_id in record.get("output_message_ids") or []
    )


def finalize(state: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Usage, background passes, then the lock is released BEFORE the run is marked completed: a client that
    sees the run finished may send again at once and must not meet a 409 from the run it just watched end."""
    ctx = RunContext.from_state(state)
    group = _group(ctx)
    records = runs_dal.list_step_records(ctx.org_id, ctx.run_id)
    roster = {**group, "manager_agent_id": state.get("manager_agent_id") or group.get("manager_agent_id")}
    usage = _usage(roster, records)
    if group["manager_type"] in ("sleeptime", "voice_sleeptime"):
        usage.run_ids = sleeptime.after_main_turn(ctx, group, state)
    default_reason = "max_turns" if group["manager_type"] in ("round_robin", "dynamic") else "end_turn"
    stop_reason = state.get("stop_reason") or default_reason
    run = runs_dal.get_run(ctx.org_id, ctx.run_id) or {}
    metadata = {**(run.get("metadata") or {}), "stop_reason": stop_reason, "usage": usage.model_dump(exclude={"steps_messages"})}
    runs_dal.release_group_lock(ctx.org_id, ctx.group_id, ctx.run_id)
    now = _now()
    runs_dal.update_run(
        ctx.org_id,
        ctx.run_id,
        {
            "status": "completed",
            "completed_at": now,
            "updated_at": now,
            "usage": usage.model_dump(),
            "response_message_ids": _response_ids(roster, records),
            "metadata": metadata,
        },
    )
    events_dal.append(ctx.org_id, ctx.run_id, [frames.usage_frame(usage), frames.DONE], once_key="final")
    callbacks.send_callback(ctx)
    return {**state, "done": True, "status": "completed"}


def _error_detail(error: dict[str, Any]) -> tuple[int, str, str | None]:
    """The status, message and error code of a failed run, from the Step Functions error object."""
    cause = error.get("Cause") or ""
    message = cause
    try:
        parsed = json.loads(cause)
        message = parsed.get("errorMessage", cause)
    except (ValueError, AttributeError):
        pass
    try:
        detail = json.loads(message)
        if isinstance(detail, dict) and "status" in detail:
            return int(detail["status"]), str(detail.get("detail")), detail.get("code")
    except (ValueError, TypeError):
        pass
    return 500, str(message or error.get("Error") or "run failed"), None


def fail(state: dict[str, Any], error: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Record the failure on the run (lock released first, as in `finalize`) and end its event stream."""
    ctx = RunContext.from_state(state)
    status, detail, code = _error_detail(error or {})
    logger.warning("group run failed", extra={"run_id": ctx.run_id, "error": detail})
    records = runs_dal.list_step_records(ctx.org_id, ctx.run_id)
    run = runs_dal.get_run(ctx.org_id, ctx.run_id) or {}
    metadata = {**(run.get("metadata") or {}), "stop_reason": "error", "error": detail}
    runs_dal.release_group_lock(ctx.org_id, ctx.group_id, ctx.run_id)
    now = _now()
    runs_dal.update_run(
        ctx.org_id,
        ctx.run_id,
        {
            "status": "failed",
            "completed_at": now,
            "updated_at": now,
            "error_status": status,
            "error": detail,
            "metadata": metadata,
            "response_message_ids": sorted(i for r in records for i in r.get("output_message_ids") or []),
        },
    )
    events_dal.append(ctx.org_id, ctx.run_id, [frames.error_frame(detail, code), frames.DONE], once_key="final")
    callbacks.send_callback(ctx)
    return {**state, "done": True, "status": "failed"}


def background_pass(state: dict[str, Any], **_: Any) -> dict[str, Any]:
    return sleeptime.background_pass(state)


def background_failed(state: dict[str, Any], error: dict[str, Any], **_: Any) -> dict[str, Any]:
    return sleeptime.background_failed(state, error or {})


ACTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "prepare": prepare,
    "round_robin_turn": round_robin_turn,
    "dynamic_select": dynamic_select,
    "dynamic_speak": dynamic_speak,
    "supervisor_broadcast": supervisor_broadcast,
    "worker_step": worker_step,
    "worker_failed": worker_failed,
    "supervisor_reply": supervisor_reply,
    "main_agent_turn": main_agent_turn,
    "finalize": finalize,
    "fail": fail,
    "background_pass": background_pass,
    "background_failed": background_failed,
}


def dispatch(event: dict[str, Any]) -> dict[str, Any]:
    action = event.get("action")
    if action not in ACTIONS:
        raise StepFailedError(f"unknown action {action!r}")
    kwargs = {k: v for k, v in event.items() if k not in {"action", "run"}}
    try:
        return ACTIONS[action](event["run"], **kwargs)
    except StorageUnavailableError as exc:
        # A storage hiccup outside an agent step: the state machine retries errors of this name.
        raise RetryableStepError(f"storage unavailable: {exc.detail}") from exc
