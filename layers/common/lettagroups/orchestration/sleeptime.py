"""Background memory passes of sleeptime and voice_sleeptime groups (contract §8.4, §8.5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..dal import agents as agents_dal
from ..dal import groups as groups_dal
from ..dal import runs as runs_dal
from ..ids import new_id
from ..models.stored import StoredMessage
from ..observability import logger
from . import agent_steps, starter
from .context import RunContext

PRIOR_MESSAGES_LIMIT = 50


def _now() -> str:
    return datetime.now(UTC).isoformat()


def after_main_turn(ctx: RunContext, group: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """Advance the turn counter and start background passes; returns their run ids.

    Idempotent: the run record remembers the passes it started, so a re-run finalize
    neither counts the turn twice nor starts a second pass.
    """
    run = runs_dal.get_run(ctx.org_id, ctx.run_id) or {}
    if "background_run_ids" in run:
        return list(run["background_run_ids"])
    main = agents_dal.get_agent(ctx.org_id, group["manager_agent_id"]) or {}
    run_ids: list[str] = []
    if main.get("enable_sleeptime"):
        if group["manager_type"] == "voice_sleeptime":
            run_ids = _voice_pass(ctx, group)
        else:
            run_ids = _sleeptime_pass(ctx, group)
    runs_dal.update_run(ctx.org_id, ctx.run_id, {"background_run_ids": run_ids})
    return run_ids


def _run_message_ids(ctx: RunContext) -> list[str]:
    return [m.id for m in agent_steps.run_messages(ctx)]


def _sleeptime_pass(ctx: RunContext, group: dict[str, Any]) -> list[str]:
    for _ in range(5):
        current = groups_dal.get_group(ctx.org_id, ctx.group_id)
        if current is None:
            return []
        frequency = current.get("sleeptime_agent_frequency")
        fields: dict[str, Any] = {}
        trigger = True
        if isinstance(frequency, int) and frequency > 0:
            counter = current.get("turns_counter")
            counter = -1 if counter is None else counter
            new_counter = (counter + 1) % frequency
            fields["turns_counter"] = new_counter
            trigger = new_counter == 0
        message_ids = _run_message_ids(ctx)
        prev = current.get("last_processed_message_id")
        if trigger and message_ids:
            fields["last_processed_message_id"] = message_ids[-1]
        try:
            # Read-then-write under the group's version: a concurrent change makes us re-read.
            groups_dal.update_group_fields(ctx.org_id, ctx.group_id, current["version"], fields) if fields else None
        except groups_dal.TransactionConflict:
            continue
        if not trigger:
            return []
        return [
            _start_background(
                ctx, current, agent_id, prev=prev, first_id=message_ids[0] if message_ids else None, mode="sleeptime"
            )
            for agent_id in current["agent_ids"]
        ]
    return []


def _voice_pass(ctx: RunContext, group: dict[str, Any]) -> list[str]:
    """Trim the voice agent's context when it outgrows the buffer, and summarise what left it."""
    max_len = group.get("max_message_buffer_length") or 30
    min_len = group.get("min_message_buffer_length") or 15
    evicted_until = agent_steps.trim_context(ctx, group["manager_agent_id"], max_len, min_len)
    if evicted_until is None:
        return []
    return [
        _start_background(ctx, group, agent_id, prev=None, first_id=None, mode="voice", evicted_until=evicted_until)
        for agent_id in group["agent_ids"]
    ]


def _start_background(
    ctx: RunContext,
    group: dict[str, Any],
    agent_id: str,
    *,
    prev: str | None,
    first_id: str | None,
    mode: str,
    evicted_until: str | None = None,
) -> str:
    run_id = new_id("run")
    now = _now()
    runs_dal.create_run(
        ctx.org_id,
        {
            "id": run_id,
            "status": "created",
            "kind": "background",
            "job_type": "run",
            "created_at": now,
            "updated_at": now,
            "created_by_id": ctx.user_id,
            "conversation_id": ctx.group_id,
            "group_id": ctx.group_id,
            "agent_id": agent_id,
            "parent_run_id": ctx.run_id,
            "metadata": {"job_type": "background_agent_send_message_async", "agent_id": agent_id, "group_id": ctx.group_id},
        },
    )
    state = {
        "kind": "background",
        "mode": mode,
        "org_id": ctx.org_id,
        "user_id": ctx.user_id,
        "group_id": ctx.group_id,
        "run_id": run_id,
        "parent_run_id": ctx.run_id,
        "agent_id": agent_id,
        "main_agent_id": group.get("manager_agent_id"),
        "prev": prev,
        "first_id": first_id,
        "evicted_until": evicted_until,
    }
    try:
        starter.start_run(run_id, state)
    except Exception as exc:  # noqa: BLE001 - the user's turn must not fail because a background pass could not start
        logger.exception("background pass did not start")
        runs_dal.update_run(ctx.org_id, run_id, {"status": "failed", "metadata": {**state, "error": str(exc)}})
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
                try:
                    return "assistant: " + str(json.loads(function.get("arguments") or "{}").get("message", ""))
                except ValueError:
                    return "assistant: " + str(function.get("arguments"))
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


def background_pass(state: dict[str, Any]) -> dict[str, Any]:
    """Runs in its own execution; records its own outcome on its run and never fails the workflow."""
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
        usage = outcome.usage.model_dump(exclude={"steps_messages", "run_ids", "message_type"})
        runs_dal.update_run(
            ctx.org_id,
            ctx.run_id,
            {
                "status": "completed",
                "completed_at": _now(),
                "updated_at": _now(),
                "usage": outcome.usage.model_dump(),
                "metadata": {
                    "job_type": "background_agent_send_message_async",
                    "agent_id": agent_id,
                    "group_id": ctx.group_id,
                    "result": usage,
                },
            },
        )
        return {**state, "status": "completed"}
    except Exception as exc:  # noqa: BLE001 - recorded on the background run
        logger.exception("background pass failed")
        runs_dal.update_run(
            ctx.org_id,
            ctx.run_id,
            {
                "status": "failed",
                "completed_at": _now(),
                "updated_at": _now(),
                "metadata": {
                    "job_type": "background_agent_send_message_async",
                    "agent_id": agent_id,
                    "group_id": ctx.group_id,
                    "error": str(exc),
                },
            },
        )
        return {**state, "status": "failed"}


def _transcript(ctx: RunContext, state: dict[str, Any]) -> list[str]:
    parent = RunContext(org_id=ctx.org_id, user_id=ctx.user_id, group_id=ctx.group_id, run_id=state["parent_run_id"])
    main = state.get("main_agent_id")
    if state.get("mode") == "voice":
        messages = agent_steps.agent_history(ctx, main or "", until=None)
    else:
        prior = agent_steps.messages_between(
            ctx, after=state.get("prev"), before=state.get("first_id"), limit=PRIOR_MESSAGES_LIMIT
        )
        messages = prior + agent_steps.run_messages(parent)
    relevant = [
        m for m in messages if m.agent_id in (None, main) or (m.role in ("user", "system") and m.recipient_id in (None, main))
    ]
    return [line for line in (transcript_line(m) for m in relevant) if line]
