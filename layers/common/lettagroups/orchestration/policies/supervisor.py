"""supervisor (contract §8.2): the supervisor broadcasts to every worker with its tool; the workers answer in
parallel (a Map state, `worker_step`), and the supervisor resumes with their answers as the tool's return.

    turn 0  the supervisor's first step, paused on the broadcast call  → next: workers (or done: it just replied)
    Map     one `worker_step` per worker (failures recorded by `worker_failed`)
    turn 1  the supervisor's second step, resumed with the workers' answers → done
"""

from __future__ import annotations

from typing import Any

from ...agent.catalog import BROADCAST_TOOL, supervisor_tool_rules
from ...dal import runs as runs_dal
from ...models.records import StepRecord
from .. import prompts, steps
from ..failure import RunFailure, failed
from ..state import RunState

BROADCAST_KEY = "supervisor-1"
REPLY_KEY = "supervisor-2"
WORKER_PREFIX = "worker-"
WORKER_ATTEMPTS = 3  # as Letta tries a worker; the state machine retries a retryable failure twice (WorkerStep)
RULES = supervisor_tool_rules()


def _supervisor_spec(state: RunState, step_key: str, **extra: Any) -> steps.StepSpec:
    return steps.StepSpec(
        agent_id=str(state.manager_agent_id),
        step_key=step_key,
        counting="calls",
        extra_tools=[BROADCAST_TOOL],
        tool_rules_override=RULES,
        **extra,
    )


def take_turn(state: RunState) -> RunState:
    if state.turn == 0:
        pending = steps.compute(state, _supervisor_spec(state, BROADCAST_KEY, pause_on_tools={BROADCAST_TOOL}))
        if pending.result.paused_tool_call is None:
            return steps.commit_step(state, pending, steps.Finish("end_turn"))  # it answered without asking anyone
        state = steps.commit_step(state, pending)
        return state.model_copy(update={"turn": 1, "next": "workers", "worker_ids": list(state.agent_ids)})
    call = _broadcast_call(state)
    answers = {r.agent_id: r for r in runs_dal.list_step_records(state.org_id, state.run_id, WORKER_PREFIX)}
    results = [_result(answers.get(worker), worker) for worker in state.worker_ids]
    tool_return = steps.build_tool_return(state, str(state.manager_agent_id), call, str(results))
    pending = steps.compute(state, _supervisor_spec(state, REPLY_KEY, inputs=[tool_return], resume_after_tool=BROADCAST_TOOL))
    return steps.commit_step(state, pending, steps.Finish("end_turn")).model_copy(update={"turn": 2})


def _broadcast_call(state: RunState) -> dict[str, Any]:
    record = runs_dal.get_step_records(state.org_id, state.run_id, [BROADCAST_KEY]).get(BROADCAST_KEY)
    if record is None or not record.paused_tool_call:
        raise failed(f"step {BROADCAST_KEY} of run {state.run_id} did not pause on a tool call")
    return dict(record.paused_tool_call)


def _result(record: StepRecord | None, worker_id: str) -> str:
    if record is None:
        return f"No response from {worker_id}"
    if record.error is not None:
        tried = record.attempts or WORKER_ATTEMPTS
        return f"(Error on attempt {tried}/{tried} for agent {worker_id}: {record.error})"
    if record.assistant_texts:
        return f"{worker_id} said: '" + "\n".join(record.assistant_texts) + "'"
    return f"No response from {worker_id}"


def _worker_key(index: int, worker_id: str) -> str:
    return f"{WORKER_PREFIX}{index:03d}-{worker_id}"


def worker_step(state: RunState, worker_id: str, index: int) -> dict[str, Any]:
    """One worker's answer to the broadcast, written with its step record (not streamed, not part of the answer)."""
    supervisor_id = str(state.manager_agent_id)
    message = str((_broadcast_call(state).get("arguments") or {}).get("message", ""))
    delivery = steps.build_input(
        state,
        role="system",
        text=prompts.supervisor_delivery(supervisor_id, message),
        recipient_id=worker_id,
        sender_id=supervisor_id,
        name=state.agent_names.get(supervisor_id, supervisor_id),
    )
    spec = steps.StepSpec(
        agent_id=worker_id,
        step_key=_worker_key(index, worker_id),
        inputs=[delivery],
        stream=False,
        respond=False,
        counting="none",
        hold=False,  # workers run at once: none of them renews the run's hold (the supervisor's steps do)
    )
    steps.commit_step(state, steps.compute(state, spec))
    return {"agent_id": worker_id}


def worker_failed(state: RunState, worker_id: str, index: int, error: dict[str, Any]) -> dict[str, Any]:
    """A worker that failed for good: its failure becomes its answer (the supervisor still replies)."""
    failure = RunFailure.from_catch(error)
    record = StepRecord(
        step_key=_worker_key(index, worker_id),
        agent_id=worker_id,
        conversation_id=state.conversation_id,
        stop_reason="failed",
        error=failure.detail,
        attempts=1 if error.get("Error") == "StepFailedError" else WORKER_ATTEMPTS,  # a permanent failure is not retried
    )
    try:
        runs_dal.put_step_record(state.org_id, state.run_id, record)
    except runs_dal.ConditionFailed:
        pass  # the worker's step was written after all (its last attempt succeeded late): that answer stands
    return {"agent_id": worker_id, "error": failure.detail}
