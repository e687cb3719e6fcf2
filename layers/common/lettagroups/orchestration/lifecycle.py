"""A run's lifecycle in one place: begun (conversation taken, run record and inputs written, all at once), started
(its execution), then completed (in its last step's transaction, `steps.commit_step`) or failed (`fail`), or, if its
execution died without saying so, settled as failed by whoever notices (`settle`).

    created/running ──► completed        the last turn's transaction: completion + conversation released + [DONE]
          │
          └────────► failed             `fail`: failure recorded + conversation released + error frame + [DONE]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Optional

from ..dal import events as events_dal
from ..dal import messages as messages_dal
from ..dal import runs as runs_dal
from ..dal.items import ConditionFailed, transact
from ..errors import ConflictError
from ..ids import new_id
from ..models.identity import Actor
from ..models.records import RequestConfig, RunRecord
from ..models.stored import StoredMessage
from ..observability import logger, metrics
from ..streaming import frames
from . import starter
from .failure import RunFailure
from .state import RunState

COMMIT_ATTEMPTS = 5


@dataclass
class Roster:
    """Who takes part in a run, as the conversation stands when it is sent to: the run state's fields of that name."""

    manager_type: str
    agent_ids: list[str]
    manager_agent_id: Optional[str] = None
    member_since: dict[str, str] = field(default_factory=dict)
    max_turns: int = 1
    termination_token: Optional[str] = None
    active_agent_id: Optional[str] = None  # swarm: who receives the input
    description: str = ""
    agent_names: dict[str, str] = field(default_factory=dict)
    context_after: Optional[str] = None


def busy(conversation_id: str) -> str:
    """The 409 detail (contract §7.6a) for a conversation that another run holds: a group's, or an agent's own."""
    owner = "Agent" if conversation_id.startswith("agent-") else "Group"
    return f"{owner} {conversation_id} is already running a conversation"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def begin(
    actor: Actor,
    *,
    conversation_id: str,
    group_id: Optional[str],
    roster: Roster,
    inputs: Sequence[StoredMessage],
    config: RequestConfig,
    metadata: dict[str, Any],
    callback_url: Optional[str] = None,
    fingerprint: Optional[str] = None,
    run_id: Optional[str] = None,
) -> tuple[RunState, RunRecord]:
    """Take the conversation and write the run with its inputs in one transaction (the run's state and its record as
    written). 409 while another run has it."""
    run_id = run_id or new_id("run")
    state = RunState(
        org_id=actor.organization_id,
        user_id=actor.user_id,
        run_id=run_id,
        conversation_id=conversation_id,
        group_id=group_id,
        **asdict(roster),
        input_ids=[m.id for m in inputs],
        callback_url=callback_url,
        config=config,
        metadata=metadata,
    )
    now = _now()
    run = RunRecord(
        id=run_id,
        status="running",
        created_at=now,
        updated_at=now,
        created_by_id=actor.user_id,
        last_updated_by_id=actor.user_id,
        conversation_id=conversation_id,
        group_id=group_id,
        agent_id=metadata.get("agent_id"),
        callback_url=callback_url,
        request_config=config,
        input_message_ids=state.input_ids,
        metadata=metadata,
        fingerprint=fingerprint,
    )
    org = actor.organization_id
    writes = [runs_dal.start_state_action(org, run_id, state.dump()), *messages_dal.put_items(org, inputs)]
    try:
        runs_dal.begin(org, conversation_id, run, writes, fingerprint=fingerprint)
    except runs_dal.ConversationBusy as exc:
        raise ConflictError(busy(conversation_id)) from exc
    return state, run


def resume(run: RunRecord, org_id: str) -> Optional[RunState]:
    """Run a failed run again from where it failed (a client's retry of the same send): the conversation taken
    again and the run back to `running` in one transaction; its completed steps replay without running twice, and
    its frames go on after the failure's. None when another retry resumed it first."""
    started = runs_dal.get_start_state(org_id, run.id)
    if started is None:
        return None
    now = _now()
    state = RunState.model_validate(started).model_copy(
        update={"seq": events_dal.last_seq(org_id, run.id), "attempt": run.attempt + 1}
    )
    fields = {
        "status": "running",
        "attempt": run.attempt + 1,
        "updated_at": now,
        "completed_at": None,
        "failure": None,
        "stop_reason": None,
        "metadata": state.metadata,
    }
    try:
        runs_dal.resume(org_id, run, fields)
    except runs_dal.ConversationBusy as exc:
        raise ConflictError(busy(run.conversation_id)) from exc
    except ConditionFailed:
        return None
    logger.info("run resumed by a retried send", extra={"run_id": run.id, "attempt": run.attempt + 1})
    return state


def _execution_name(state: RunState) -> str:
    return state.run_id if state.attempt == 1 else f"{state.run_id}-a{state.attempt}"


def start(state: RunState) -> None:
    """Start the run's execution and return (async sends, streams). If it cannot start, the run fails at once."""
    try:
        starter.start_run(state.run_id, state.dump(), name=_execution_name(state))
    except Exception:
        fail(state, RunFailure(status=500, detail="the run could not be started", kind="internal"))
        raise


def run_sync(state: RunState, timeout_s: float) -> starter.Outcome:
    """Run the execution and wait for it (synchronous sends); a run that cannot start fails at once."""
    try:
        return starter.run_sync(state.run_id, state.dump(), timeout_s, name=_execution_name(state))
    except starter.StillRunning:
        raise
    except Exception:
        fail(state, RunFailure(status=500, detail="the run could not be started", kind="internal"))
        raise


def fail(state: RunState, failure: RunFailure) -> RunState:
    """Record the failure on the run, end its event stream with an error frame and free the conversation.
    Idempotent: a run that is already finished is left as it is."""
    logger.warning("run failed", extra={"run_id": state.run_id, "failure": failure.model_dump()})
    metrics.add_metric(name="FailedRuns", unit="Count", value=1)
    now = _now()
    fields = {
        "status": "failed",
        "completed_at": now,
        "updated_at": now,
        "failure": failure.model_dump(),
        "stop_reason": "error",
        "response_message_ids": sorted(state.response_ids),
        "metadata": {**state.metadata, "stop_reason": "error", "error": failure.detail},
    }
    after = state.seq
    for _ in range(COMMIT_ATTEMPTS):
        actions = [runs_dal.update_run_action(state.org_id, state.run_id, fields)]
        actions += events_dal.put_actions(state.org_id, state.run_id, after, [failure.frame(), frames.DONE])
        try:
            transact(actions)
            break
        except ConditionFailed as exc:
            if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
                break  # finished already (by an earlier attempt of this task, or settled)
            after = events_dal.last_seq(state.org_id, state.run_id)
    runs_dal.release(state.org_id, state.conversation_id, state.run_id)
    return state.model_copy(update={"status": "failed", "next": "done", "stop_reason": "error", "seq": after + 2})


def settle(org_id: str, run: RunRecord, detail: str = "the run's execution ended without finishing it") -> RunRecord:
    """A run whose execution is gone but whose record still says it is going: fail it now."""
    state = RunState(
        org_id=org_id,
        user_id=run.created_by_id or "",
        run_id=run.id,
        conversation_id=run.conversation_id,
        group_id=run.group_id,
        seq=events_dal.last_seq(org_id, run.id),
    )
    fail(state, RunFailure(status=500, detail=detail, kind="internal"))
    return runs_dal.get_run(org_id, run.id) or run
