"""Background memory passes of sleeptime and voice_sleeptime groups (contract §8.4, §8.5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..dal import agents as agents_dal
from ..dal import groups as groups_dal
from ..dal import runs as runs_dal
from ..ids import new_id
from ..logic.presentation import parse_arguments
from ..models.stored import StoredMessage
from ..observability import logger
from . import agent_steps, starter
from .context import RetryableStepError, RunContext

PRIOR_MESSAGES_LIMIT = 50


def _now() -> str:
    return datetime.now(UTC).isoformat()


def after_main_turn(ctx: RunContext, group: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """Advance the turn counter and start background passes; returns their run ids.

    Idempotent in two phases, so that a re-run finalize neither counts the turn twice nor starts a
    second pass: (1) the plan (which passes, with which run ids and message bounds) is committed in one
    transaction with the group's bookkeeping; (2) each planned run is created if absent and its
    execution started under the run's id (Step Functions refuses a second start of the same name).
    """
    run = runs_dal.get_run(ctx.org_id, ctx.run_id) or {}
    if "background_run_ids" in run:
        return list(run["background_run_ids"])
    plan = run.get("background_plan") or _commit_plan(ctx, group)
    run_ids = [_start_background(ctx, spec) for spec in plan.get("passes") or []]
    runs_dal.update_run(ctx.org_id, ctx.run_id, {"background_run_ids": run_ids})
    return run_ids


def _commit_plan(ctx: RunContext, group: dict[str, Any]) -> dict[str, Any]:
    for _ in range(8):
        current = groups_dal.get_group(ctx.org_id, ctx.group_id)
        if current is None:
            return {"passes": []}
        main = agents_dal.get_agent(ctx.org_id, current["manager_agent_id"]) or {}
        if not main.get("enable_sleeptime"):
            fields: dict[str, Any] = {}
            plan: dict[str, Any] = {"passes": []}  # the main agent runs alone, as a plain agent (§8.4)
        elif current["manager_type"] == "voice_sleeptime":
            fields, plan = _voice_plan(ctx, current)
        else:
            fields, plan = _sleeptime_plan(ctx, current)
        if runs_dal.commit_background_plan(ctx.org_id, ctx.run_id, ctx.group_id, int(current["version"]), fields, plan):
            return plan
        stored = (runs_dal.get_run(ctx.org_id, ctx.run_id) or {}).get("background_plan")
        if stored is not None:
            return dict(stored)  # an earlier attempt of this task committed first
    raise RetryableStepError("the group kept changing while its background pass was planned")


def _pass(group: dict[str, Any], agent_id: str, mode: str, **bounds: Any) -> dict[str, Any]:
    return {"run_id": new_id("run"), "agent_id": agent_id, "mode": mode, "main_agent_id": group.get("manager_agent_id"), **bounds}


def _sleeptime_plan(ctx: RunContext, group: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """§8.4 step 2-3: count the turn; on a trigger move `last_processed_message_id` to this run's last message."""
    frequency = group.get("sleeptime_agent_frequency")
    fields: dict[str, Any] = {}
    trigger = True
    if isinstance(frequency, int) and frequency > 0:
        counter = group.get("turns_counter")
        counter = -1 if counter is None else int(counter)
        new_counter = (counter + 1) % frequency
        fields["turns_counter"] = new_counter
        trigger = new_counter == 0
    if not trigger:
        return fields, {"passes": []}
    message_ids = [m.id for m in agent_steps.run_messages(ctx)]
    prev = group.get("last_processed_message_id")
    if message_ids:
        fields["last_processed_message_id"] = message_ids[-1]
    passes = [
        _pass(
            group,
            agent_id,
            "sleeptime",
            prev=prev,
            first_id=message_ids[0] if message_ids else None,
            frequency_set=isinstance(frequency, int) and frequency > 0,
        )
        for agent_id in group["agent_ids"]
    ]
    return fields, {"passes": passes}


def _voice_plan(ctx: RunContext, group: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """§8.5 step 2-3: trim the voice agent's context when it outgrows the buffer, and summarise the chunk."""
    max_len = group.get("max_message_buffer_length") or 30
    min_len = group.get("min_message_buffer_length") or 15
    old_cut = group.get("context_after_message_id")
    trim = agent_steps.plan_trim(ctx, group["manager_agent_id"], old_cut, int(max_len), int(min_len))
    if trim is None:
        return {}, {"passes": []}
    evicted_until, last_id = trim
    passes = [
        _pass(group, agent_id, "voice", prev=old_cut, evicted_until=evicted_until, last_id=last_id)
        for agent_id in group["agent_ids"]
    ]
    return {"context_after_message_id": evicted_until}, {"passes": passes}


def _start_background(ctx: RunContext, spec: dict[str, Any]) -> str:
    run_id = str(spec["run_id"])
    agent_id = str(spec["agent_id"])
    now = _now()
    runs_dal.create_run_once(
        ctx.org_id,
        {
            "id": run_id,
            "status": "created",
            "kind": "background",
            "job_type": "run",
            "created_at": now,
            "updated_at": now,
            "created_by_id": ctx.user_id,
            "last_updated_by_id": ctx.user_id,
            "conversation_id": ctx.group_id,
            "group_id": ctx.group_id,
            "agent_id": agent_id,
            "parent_run_id": ctx.run_id,
            "metadata": _metadata(ctx, agent_id),
        },
    )
    state = {
        **spec,
        "kind": "background",
        "org_id": ctx.org_id,
        "user_id": ctx.user_id,
        "group_id": ctx.group_id,
        "run_id": run_id,
        "parent_run_id": ctx.run_id,
    }
    try:
        starter.start_run(run_id, state)
    except Exception as exc:  # noqa: BLE001 - the user's turn must not fail because a background pass could not start
        logger.exception("background pass did not start")
        _record_failure(ctx, state, f"the background pass could not be started: {exc}")
    return run_id


def transcript_line(message: StoredMessage) -> str | None:
    """One line of the transcript a sleeptime agent reads (contract §8.4, step 5)."""
    text = message.text()
    if message.role == "user":
        try:
            envelope = json.loads(text)
        except ValueError:
            return text
        if not isinstance(envelope, dict):
            return text
        if envelope.get("type") == "user_message":
            return f"{message.name or 'user'}: {envelope.get('message', '')}"
        return None
    if message.role == "assistant":
        for call in message.tool_calls or []:
            function = call.get("function", {})
            if function.get("name") == "send_message":
                return "assistant: " + str(parse_arguments(function.get("arguments")).get("message", ""))
            return f"assistant: Calling tool {function.get('name')}"
        return None
    if message.role == "tool":
        try:
            packed = json.loads(text).get("message")
        except (ValueError, AttributeError):
            packed = text
        if packed is None or str(packed) == "None":
            return None
        return f"assistant: Tool call returned {packed}"
    return None


def _metadata(ctx: RunContext, agent_id: str, **extra: Any) -> dict[str, Any]:
    return {"job_type": "background_agent_send_message_async", "agent_id": agent_id, "group_id": ctx.group_id, **extra}


def _record_failure(ctx: RunContext, state: dict[str, Any], error: str) -> None:
    now = _now()
    runs_dal.update_run(
        ctx.org_id,
        ctx.run_id,
        {
            "status": "failed",
            "completed_at": now,
            "updated_at": now,
            "error": error,
            "metadata": _metadata(ctx, str(state.get("agent_id")), error=error),
        },
    )


def background_pass(state: dict[str, Any]) -> dict[str, Any]:
    """Runs in its own execution and records its outcome on its own run. A retryable failure is raised so
    that the state machine retries it; anything else (and the last retry, via `background_failed`) marks
    the run failed. It never touches the user's run."""
    ctx = RunContext.from_state(state)
    agent_id = state["agent_id"]
    runs_dal.update_run(ctx.org_id, ctx.run_id, {"status": "running", "updated_at": _now()})
    try:
        lines = _transcript(ctx, state)
        if state.get("mode") == "voice":
            text = "Summarise the following conversation chunk into the human memory block:\n" + "\n".join(
                f"{i + 1}. {line}" for i, line in enumerate(lines)
            )
        else:
            text = "Here is the latest conversation to process into memory:\n" + "\n".join(lines)
        message = agent_steps.build_input(
            ctx, role="user", text=text, recipient_id=agent_id, sender_id=state.get("main_agent_id")
        )
        outcome = agent_steps.agent_step(
            ctx, agent_id, inputs=[message], step_key="background", share_replies=False, stream=False
        )
    except RetryableStepError:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded on the background run
        logger.exception("background pass failed")
        _record_failure(ctx, state, str(exc))
        return {**state, "status": "failed"}
    usage = outcome.usage.model_dump(exclude={"steps_messages", "run_ids", "message_type"})
    now = _now()
    runs_dal.update_run(
        ctx.org_id,
        ctx.run_id,
        {
            "status": "completed",
            "completed_at": now,
            "updated_at": now,
            "usage": outcome.usage.model_dump(),
            "metadata": _metadata(ctx, agent_id, result=usage),
        },
    )
    return {**state, "status": "completed"}


def background_failed(state: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    """The background pass ran out of retries: record it on its run."""
    ctx = RunContext.from_state(state)
    _record_failure(ctx, state, str(error.get("Cause") or error.get("Error") or "background pass failed"))
    return {**state, "status": "failed"}


def _transcript(ctx: RunContext, state: dict[str, Any]) -> list[str]:
    main = state.get("main_agent_id") or ""
    if state.get("mode") == "voice":
        # The chunk that left the voice agent's context and what remains of it (§8.5 step 3).
        last_id = state.get("last_id")
        messages = [
            m
            for m in agent_steps.agent_history(ctx, main, after=state.get("prev"), until=None)
            if last_id is None or m.id <= last_id
        ]
    else:
        parent = RunContext(org_id=ctx.org_id, user_id=ctx.user_id, group_id=ctx.group_id, run_id=state["parent_run_id"])
        prior: list[StoredMessage] = []
        if state.get("frequency_set", True):
            try:
                prior = agent_steps.messages_between(
                    ctx, after=state.get("prev"), before=state.get("first_id"), limit=PRIOR_MESSAGES_LIMIT
                )
            except Exception:  # noqa: BLE001 - fetch errors are ignored (§8.4 step 5)
                logger.exception("prior messages of the background pass could not be read")
        messages = prior + agent_steps.run_messages(parent)
    relevant = [
        m for m in messages if m.agent_id in (None, main) or (m.role in ("user", "system") and m.recipient_id in (None, main))
    ]
    return [line for line in (transcript_line(m) for m in relevant) if line]
