"""Background memory passes of sleeptime and voice_sleeptime groups (contract §8.4, §8.5).

The main agent's last step plans them (`plan`): the group's bookkeeping (`turns_counter`, `last_processed_message_id`,
the voice context cut) and a `created` run record per pass go into that step's transaction, so a retried task can
neither count the turn twice nor plan a second pass. Once written, each pass starts as its own execution
(`start_planned`; a retry starts it again, and the pass begins by moving its run from `created` to `running`, which
only one execution can do). The user's run never waits for them and never fails because of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Optional

from ..dal import groups as groups_dal
from ..dal import runs as runs_dal
from ..ids import new_id
from ..models.presentation import parse_arguments
from ..models.records import RunRecord
from ..models.stored import StoredMessage
from ..models.stored_entities import GroupRecord
from ..observability import logger
from . import prompts, starter, steps
from .failure import RetryableStepError, RunFailure
from .state import BackgroundPass, RunState

PRIOR_MESSAGES_LIMIT = 50
DEFAULT_MAX_BUFFER = 30
DEFAULT_MIN_BUFFER = 15


@dataclass
class Plan:
    passes: list[tuple[str, BackgroundPass]] = field(default_factory=list)  # (run id, what it processes)
    actions: list[dict[str, Any]] = field(default_factory=list)  # for the main step's transaction
    run_ids: Optional[list[str]] = None  # usage.run_ids of the user's run


def _now() -> str:
    return datetime.now(UTC).isoformat()


def plan(state: RunState, pending: steps.Pending) -> Plan:
    """What the main agent's step triggers (it is not written yet: its messages come from `pending`)."""
    if pending.result.replayed:
        return _planned_before(state)
    group, agents = groups_dal.get_group_with_agents(state.org_id, str(state.group_id), [str(state.manager_agent_id)])
    main = agents.get(str(state.manager_agent_id))
    if group is None or main is None or not main.enable_sleeptime:
        return Plan(run_ids=[])  # the main agent runs alone, as a plain agent (§8.4)
    if group.manager_type == "voice_sleeptime":
        fields, passes = _voice(state, group, pending)
    else:
        fields, passes = _sleeptime(state, group, pending)
    actions = [groups_dal.fields_update_action(state.org_id, str(state.group_id), group.version, fields)] if fields else []
    planned = [(new_id("run"), p) for p in passes]
    actions += [runs_dal.put_run_action(state.org_id, _run_record(state, run_id, p)) for run_id, p in planned]
    return Plan(passes=planned, actions=actions, run_ids=[run_id for run_id, _ in planned])


def _planned_before(state: RunState) -> Plan:
    """A re-run of the main step: what the first attempt planned (and perhaps did not start)."""
    run = runs_dal.get_run(state.org_id, state.run_id)
    run_ids = list(run.background_run_ids) if run is not None else []
    passes = []
    for run_id in run_ids:
        record = runs_dal.get_run(state.org_id, run_id)
        if record is not None and record.status == "created" and record.background:
            passes.append((run_id, BackgroundPass.model_validate(record.background)))
    return Plan(passes=passes, run_ids=run_ids)


def _pass(state: RunState, agent_id: str, mode: str, **bounds: Any) -> BackgroundPass:
    return BackgroundPass.model_validate(
        {"agent_id": agent_id, "mode": mode, "main_agent_id": state.manager_agent_id, "parent_run_id": state.run_id, **bounds}
    )


def _sleeptime(state: RunState, group: GroupRecord, pending: steps.Pending) -> tuple[dict[str, Any], list[BackgroundPass]]:
    """§8.4 steps 2-3: count the turn; on a trigger move `last_processed_message_id` to this run's last message."""
    frequency = group.sleeptime_agent_frequency
    frequency_set = frequency is not None and frequency > 0
    fields: dict[str, Any] = {}
    if frequency is not None and frequency > 0:
        counter = group.turns_counter
        fields["turns_counter"] = ((-1 if counter is None else counter) + 1) % frequency
        if fields["turns_counter"] != 0:
            return fields, []
    message_ids = [*state.input_ids, *pending.result.output_ids]
    if message_ids:
        fields["last_processed_message_id"] = message_ids[-1]
    prev = group.last_processed_message_id
    first = message_ids[0] if message_ids else None
    return fields, [_pass(state, a, "sleeptime", prev=prev, first_id=first, frequency_set=frequency_set) for a in group.agent_ids]


def _voice(state: RunState, group: GroupRecord, pending: steps.Pending) -> tuple[dict[str, Any], list[BackgroundPass]]:
    """§8.5 steps 2-3: when the voice agent's in-context messages (the system message and those after the cut, as
    Letta counts them) exceed the buffer, keep the system message and about the last `min`, moving the cut forward to
    the next user message; the evicted chunk (and what remains) goes to the sleeptime agent."""
    max_len = group.max_message_buffer_length or DEFAULT_MAX_BUFFER
    min_len = group.min_message_buffer_length or DEFAULT_MIN_BUFFER
    cut = group.context_after_message_id
    main = str(state.manager_agent_id)
    visible = steps.visible_history(state, main, after=cut) + [m for m in pending.result.outputs if m.id not in state.input_ids]
    if 1 + len(visible) <= max_len:
        return {}, []
    keep_from = max(len(visible) - min_len, 0)
    while keep_from < len(visible) and visible[keep_from].role != "user":
        keep_from += 1
    if keep_from == 0 or keep_from >= len(visible):
        return {}, []
    evicted_until, last_id = visible[keep_from - 1].id, visible[-1].id
    passes = [_pass(state, a, "voice", prev=cut, evicted_until=evicted_until, last_id=last_id) for a in group.agent_ids]
    return {"context_after_message_id": evicted_until}, passes


def _metadata(state: RunState, agent_id: str, **extra: Any) -> dict[str, Any]:
    return {"job_type": "background_agent_send_message_async", "agent_id": agent_id, "group_id": state.group_id, **extra}


def _run_record(state: RunState, run_id: str, spec: BackgroundPass) -> RunRecord:
    now = _now()
    return RunRecord(
        id=run_id,
        kind="background",
        status="created",
        created_at=now,
        updated_at=now,
        created_by_id=state.user_id,
        last_updated_by_id=state.user_id,
        conversation_id=state.conversation_id,
        group_id=state.group_id,
        agent_id=spec.agent_id,
        parent_run_id=state.run_id,
        background=spec.model_dump(mode="json"),
        metadata=_metadata(state, spec.agent_id),
    )


def start_planned(state: RunState, planned: Plan) -> None:
    for run_id, spec in planned.passes:
        background_state = RunState(
            kind="background",
            org_id=state.org_id,
            user_id=state.user_id,
            run_id=run_id,
            conversation_id=state.conversation_id,
            group_id=state.group_id,
            background=spec,
        )
        try:
            starter.start_run(run_id, background_state.dump())
        except Exception as exc:  # noqa: BLE001 - the user's turn must not fail because a background pass could not start
            logger.exception("background pass did not start")
            _record_failure(background_state, f"the background pass could not be started: {exc}")


def transcript_line(message: StoredMessage) -> Optional[str]:
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


def _transcript(state: RunState, spec: BackgroundPass) -> list[str]:
    main = spec.main_agent_id or ""
    if spec.mode == "voice":
        # The chunk that left the voice agent's context and what remains of it (§8.5 step 3).
        messages = [
            m for m in steps.visible_history(state, main, after=spec.prev) if spec.last_id is None or m.id <= spec.last_id
        ]
    else:
        prior: list[StoredMessage] = []
        if spec.frequency_set:
            try:
                prior = steps.messages_between(state, after=spec.prev, before=spec.first_id, limit=PRIOR_MESSAGES_LIMIT)
            except Exception:  # noqa: BLE001 - fetch errors are ignored (§8.4 step 5)
                logger.exception("prior messages of the background pass could not be read")
        messages = prior + steps.run_messages(state, spec.parent_run_id)
    relevant = [
        m for m in messages if m.agent_id in (None, main) or (m.role in ("user", "system") and m.recipient_id in (None, main))
    ]
    return [line for line in (transcript_line(m) for m in relevant) if line]


def run_pass(state: RunState) -> RunState:
    """A background pass, in its own execution: records its outcome on its own run and never touches the user's.
    A retryable failure is raised (the state machine retries it); anything else marks the run failed.

    Any attempt runs the pass until its run is finished, whoever started it: a retry after a crash (a timeout, a
    write that failed after the step was committed) finishes the pass, and a duplicate execution's step replays
    the committed one (its step key) rather than writing it twice."""
    spec = state.background
    assert spec is not None
    if not runs_dal.update_run(state.org_id, state.run_id, {"status": "running", "updated_at": _now()}):
        return state  # already finished (by another execution of this pass): nothing to do
    try:
        lines = _transcript(state, spec)
        text = prompts.voice_transcript(lines) if spec.mode == "voice" else prompts.sleeptime_transcript(lines)
        message = steps.build_input(state, role="user", text=text, recipient_id=spec.agent_id, sender_id=spec.main_agent_id)
        step = steps.StepSpec(
            agent_id=spec.agent_id,
            step_key="background",
            inputs=[message],
            stream=False,
            respond=False,
            counting="calls",
            hold=False,
        )
        state = steps.commit_step(state, steps.compute(state, step))
    except RetryableStepError:
        raise  # the state machine retries it: not a failure of the pass yet
    except Exception as exc:  # noqa: BLE001 - recorded on the background run
        logger.exception("background pass failed")
        _record_failure(state, str(RunFailure.from_exception(exc).detail))
        return state.model_copy(update={"status": "failed"})
    usage = state.usage.model_dump()
    now = _now()
    runs_dal.update_run(
        state.org_id,
        state.run_id,
        {
            "status": "completed",
            "completed_at": now,
            "updated_at": now,
            "usage": usage,
            "metadata": _metadata(state, spec.agent_id, result=usage),
        },
    )
    return state.model_copy(update={"status": "completed"})


def _record_failure(state: RunState, error: str) -> None:
    now = _now()
    agent_id = state.background.agent_id if state.background else None
    runs_dal.update_run(
        state.org_id,
        state.run_id,
        {
            "status": "failed",
            "completed_at": now,
            "updated_at": now,
            "failure": RunFailure(status=500, detail=error, kind="internal").model_dump(),
            "metadata": _metadata(state, str(agent_id), error=error),
        },
    )


def pass_failed(state: RunState, error: dict[str, Any]) -> RunState:
    """The background pass ran out of retries: record it on its run."""
    _record_failure(state, RunFailure.from_catch(error).detail)
    return state.model_copy(update={"status": "failed"})
