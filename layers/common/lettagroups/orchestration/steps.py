"""How a run's turns run agent steps: compute the step, then write it in ONE transaction with what the run must
change with it (its hold on the conversation, its event frames and, on the last turn, its completion).

A turn is therefore exactly-once whatever retries happen: the step's idempotency record is in that transaction, so a
re-run task finds it (`StepResult.replayed`), computes nothing, writes nothing, and moves the state on the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Optional, Union

from ..agent import inputs
from ..agent.providers import supports_token_streaming
from ..agent.providers.errors import ModelError
from ..agent.step import (
    DEFAULT_MAX_CHAINED_STEPS,
    Loaded,
    MemoryEditConflictError,
    StepRequest,
    StepResult,
    commit,
    load_step,
    run_step,
)
from ..agent.tools import ToolSpec
from ..agent.visibility import visibility
from ..dal import events as events_dal
from ..dal import messages as messages_dal
from ..dal import runs as runs_dal
from ..errors import DomainError, StorageUnavailableError
from ..models.messages import LettaUsageStatistics
from ..models.presentation import present_all
from ..models.records import Usage
from ..models.stored import StoredMessage
from ..observability import metrics
from ..streaming import frames
from ..streaming.batcher import DeltaBatcher
from .failure import RetryableStepError, RunFailure, StepFailedError, failed, retryable
from .state import RunState

COMMIT_ATTEMPTS = 5

# How a step counts towards the run's usage (contract §7.5): as one agent turn (round robin, dynamic, swarm), by its
# model calls (the agent the client talks to in supervisor, sleeptime and voice groups), or not at all (workers).
Counting = Literal["turn", "calls", "none"]


@dataclass
class StepSpec:
    """What a turn asks of one agent step."""

    agent_id: str
    step_key: str
    inputs: Sequence[StoredMessage] = ()
    share_replies: bool = False
    stream: bool = True  # its messages go to the run's event log (the client's stream)
    respond: bool = True  # its messages are part of the synchronous answer
    counting: Counting = "turn"
    extra_tools: Sequence[Union[ToolSpec, str]] = ()
    tool_rules_override: Optional[list[dict[str, Any]]] = None
    pause_on_tools: Collection[str] = ()
    resume_after_tool: Optional[str] = None
    history_after: Optional[str] = None  # a context cut beyond the agent's membership (the voice buffer's)
    system_appendix: Optional[str] = None
    hold: bool = True  # its transaction renews the run's hold on the conversation (concurrent workers do not)


@dataclass
class Finish:
    """The run ends with this step: its completion is written in the step's own transaction."""

    stop_reason: str
    extra_actions: list[dict[str, Any]] = field(default_factory=list)  # e.g. the sleeptime bookkeeping
    run_ids: Optional[list[str]] = None  # background runs started (usage.run_ids)


@dataclass
class Pending:
    """A computed step, not yet written."""

    spec: StepSpec
    request: StepRequest
    result: StepResult
    batcher: Optional[DeltaBatcher] = None

    @property
    def assistant_texts(self) -> list[str]:
        return self.result.assistant_texts


@contextlib.contextmanager
def failures_mapped() -> Iterator[None]:
    """Failures of a step as the state machine sees them: worth a retry (RetryableStepError) or final
    (StepFailedError), each carrying the structured failure (orchestration/failure.py)."""
    try:
        yield
    except (StepFailedError, RetryableStepError):
        raise
    except ModelError as exc:
        metrics.add_metric(name="ModelErrors", unit="Count", value=1)
        failure = RunFailure.from_exception(exc)
        if exc.retryable:
            metrics.add_metric(name="RetriedSteps", unit="Count", value=1)  # the state machine runs the task again
            raise RetryableStepError(failure) from exc
        raise StepFailedError(failure) from exc
    except (messages_dal.BlockVersionConflict, MemoryEditConflictError) as exc:
        raise retryable(f"memory edit conflict: {exc}", kind="conflict") from exc
    except (StorageUnavailableError, events_dal.EventLogConflict) as exc:
        raise retryable(f"storage unavailable: {exc}") from exc
    except DomainError as exc:
        # A missing object or a rule violation mid-run (e.g. an agent deleted meanwhile): the run fails with that
        # status (contract §4.7, "In-run failure").
        raise StepFailedError(RunFailure.from_exception(exc)) from exc


def request_for(state: RunState, spec: StepSpec) -> StepRequest:
    config = state.config
    return StepRequest(
        org_id=state.org_id,
        agent_id=spec.agent_id,
        conversation_id=state.conversation_id,
        group_id=state.group_id,
        run_id=state.run_id,
        step_key=spec.step_key,
        inputs=spec.inputs,
        extra_tools=spec.extra_tools,
        tool_rules_override=spec.tool_rules_override,
        pause_on_tools=spec.pause_on_tools,
        resume_after_tool=spec.resume_after_tool,
        share_replies=spec.share_replies,
        visible_after=state.member_since.get(spec.agent_id),
        history_after=spec.history_after,
        system_appendix=spec.system_appendix,
        max_chained_steps=min(DEFAULT_MAX_CHAINED_STEPS, config.max_steps or DEFAULT_MAX_CHAINED_STEPS),
        stream_options=config,
    )


def compute(state: RunState, spec: StepSpec) -> Pending:
    """Read and run the step (nothing written yet, except token deltas already on their way to the client)."""
    request = request_for(state, spec)
    with failures_mapped():
        loaded: Loaded = load_step(request)
        batcher = None
        if loaded.record is None and spec.stream and state.config.stream_tokens:
            if supports_token_streaming(loaded.agent.llm_config):
                batcher = DeltaBatcher(state.org_id, state.run_id, state.seq, state.config.include_return_message_types)
        try:
            result = run_step(request, loaded, delta_sink=batcher)
        except BaseException:
            if batcher is not None:
                batcher.close()  # what the model said before the failure reaches the client before the error frame
            raise
    return Pending(spec=spec, request=request, result=result, batcher=batcher)


def _contribution(spec: StepSpec, usage: Usage) -> Usage:
    if spec.counting == "none":
        return Usage()
    if spec.counting == "turn":
        return usage.model_copy(update={"step_count": 1})
    return usage


def client_usage(state: RunState) -> LettaUsageStatistics:
    return LettaUsageStatistics(**state.usage.model_dump(), run_ids=state.run_ids)


def _advance(state: RunState, pending: Pending, seq_after: int, finish: Optional[Finish]) -> RunState:
    spec, result = pending.spec, pending.result
    update: dict[str, Any] = {"seq": seq_after, "usage": state.usage.plus(_contribution(spec, result.usage))}
    if spec.respond:
        update["response_ids"] = [*state.response_ids, *result.output_ids]
    if finish is not None:
        update.update(status="completed", next="done", stop_reason=finish.stop_reason, run_ids=finish.run_ids)
    return state.model_copy(update=update)


def _frames(state: RunState, pending: Pending) -> list[str]:
    """The step's frames for the event log: in step mode its messages (inputs never echoed), in token mode what the
    batcher has not written yet."""
    if pending.batcher is not None:
        return pending.batcher.drain()
    if not pending.spec.stream:
        return []
    presented = present_all(pending.result.outputs, state.config, live=True)
    return [frames.message_frame(m) for m in presented]


def completion_fields(state: RunState) -> dict[str, Any]:
    """The run record once it completed (what GET /v1/runs/{id} shows)."""
    now = datetime.now(UTC).isoformat()
    usage = client_usage(state).model_dump(exclude={"steps_messages"})
    return {
        "status": "completed",
        "completed_at": now,
        "updated_at": now,
        "usage": usage,
        "stop_reason": state.stop_reason,
        "response_message_ids": sorted(state.response_ids),
        "background_run_ids": state.run_ids or [],
        "metadata": {**state.metadata, "stop_reason": state.stop_reason, "usage": usage},
    }


def commit_step(
    state: RunState, pending: Pending, finish: Optional[Finish] = None, extra_actions: Sequence[dict[str, Any]] = ()
) -> RunState:
    """Write the step, the run's hold on the conversation (renewed, or released when it finishes), its frames,
    (finishing) its completion and the policy's `extra_actions` (its own conditional writes, e.g. the swarm's
    active agent) in one transaction; returns the state moved on."""
    result = pending.result
    if result.replayed:
        return _advance(state, pending, _replayed_seq(state, result), finish)
    step_frames = _frames(state, pending)
    after = pending.batcher.seq if pending.batcher is not None else state.seq
    for _ in range(COMMIT_ATTEMPTS):
        moved = _advance(state, pending, after + len(step_frames) + (2 if finish else 0), finish)
        written = step_frames + ([frames.usage_frame(client_usage(moved)), frames.DONE] if finish else [])
        extras: list[tuple[str, dict[str, Any]]] = []
        if pending.spec.hold:
            hold = runs_dal.release_action if finish else runs_dal.renew_action
            extras.append(("hold", hold(state.org_id, state.conversation_id, state.run_id)))
        extras += [("event", a) for a in events_dal.put_actions(state.org_id, state.run_id, after, written)]
        if finish is not None:
            extras.append(("completion", runs_dal.update_run_action(state.org_id, state.run_id, completion_fields(moved))))
            extras += [("finish", a) for a in finish.extra_actions]
        extras += [("finish", a) for a in extra_actions]
        try:
            with failures_mapped():
                committed = commit(pending.request, result, [a for _, a in extras], seq_after=moved.seq)
        except messages_dal.ExtraConditionFailed as exc:
            roles = {extras[i][0] for i in exc.indexes}
            if "hold" in roles:
                raise failed(
                    f"run {state.run_id} no longer holds conversation {state.conversation_id}", kind="lock_lost"
                ) from exc
            if "completion" in roles:
                raise failed(f"run {state.run_id} was already finished", kind="internal") from exc
            if "finish" in roles:
                raise retryable("the group changed while the run wrote its step", kind="conflict") from exc
            after = events_dal.last_seq(state.org_id, state.run_id)  # another writer got there first: go after it
            continue
        if committed.replayed:  # another attempt of this task wrote the step first
            return _advance(state, dataclasses.replace(pending, result=committed), _replayed_seq(state, committed), finish)
        return moved
    raise retryable(f"could not append to the event log of run {state.run_id}")


# --- what turns give agents and read back ---------------------------------------------------------------------


def build_input(
    state: RunState, *, role: str, text: str, recipient_id: Optional[str], sender_id: Optional[str], name: Optional[str] = None
) -> StoredMessage:
    return inputs.build_input_message(
        state.org_id,
        state.conversation_id,
        role=role,
        text=text,
        group_id=state.group_id,
        run_id=state.run_id,
        recipient_id=recipient_id,
        sender_id=sender_id,
        name=name,
    )


def build_tool_return(state: RunState, agent_id: str, call: dict[str, Any], text: str) -> StoredMessage:
    return inputs.build_tool_return_message(
        state.org_id,
        state.conversation_id,
        agent_id=agent_id,
        tool_call_id=call["id"],
        tool_name=call["name"],
        raw=text,
        group_id=state.group_id,
        run_id=state.run_id,
    )


def run_messages(state: RunState, run_id: Optional[str] = None) -> list[StoredMessage]:
    """The messages of a run (this one by default), in order: one strongly consistent Query of the conversation
    from the run's start (its id is older than any of its messages), keeping that run's own."""
    run_id = run_id or state.run_id
    return messages_dal.run_messages(state.org_id, state.conversation_id, run_id)


def messages_between(state: RunState, *, after: Optional[str], before: Optional[str], limit: int) -> list[StoredMessage]:
    return messages_dal.list_messages(state.org_id, state.conversation_id, after=after, before=before, limit=limit)


def visible_history(state: RunState, agent_id: str, *, after: Optional[str] = None) -> list[StoredMessage]:
    """What the agent has in its context from this conversation after `after` (its step's visibility rules)."""
    return [
        m
        for m in messages_dal.iter_messages(state.org_id, state.conversation_id, after=after)
        if visibility(m, agent_id) is not None
    ]


def _replayed_seq(state: RunState, result: StepResult) -> int:
    return max(state.seq, result.seq_after or 0)
