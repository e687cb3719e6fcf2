"""One task of a run's execution: a turn (by the manager type's policy), then what follows a run's end.

A turn's state goes in and comes out (`state.RunState`); what happens next is the state machine's Choice on
`next`: another turn, the supervisor's workers, the end, or a continuation. An Express execution lasts at most
five minutes, so a run still going after `CONTINUE_AFTER_SECONDS` goes on in a fresh execution of the same state
(`continue_run`): runs of any length at Express prices.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any, Optional

from ..observability import logger, metrics
from . import callbacks, lifecycle, starter
from .failure import RunFailure, failed
from .policies import POLICIES
from .state import RunState

CONTINUE_AFTER_SECONDS = float(os.environ.get("RUN_CONTINUE_AFTER_SECONDS", "240"))


def _elapsed(started_at: Optional[str]) -> float:
    if not started_at:
        return 0.0
    try:
        return time.time() - datetime.fromisoformat(started_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def take_turn(state: RunState, started_at: Optional[str] = None) -> RunState:
    policy = POLICIES.get(state.manager_type)
    if policy is None:
        raise failed(f"Manager type '{state.manager_type}' cannot run", status=400, kind="bad_request")
    began = time.monotonic()
    state = policy(state)
    metrics.add_metric(name="Turns", unit="Count", value=1)
    metrics.add_metric(name="TurnMilliseconds", unit="Milliseconds", value=(time.monotonic() - began) * 1000)
    if state.status == "completed":
        finished(state)
    elif state.next == "turn" and _elapsed(started_at) > CONTINUE_AFTER_SECONDS:
        state = state.model_copy(update={"next": "continue"})
    return state


def finished(state: RunState) -> None:
    """After the run's completion is written: its usage in the metrics, and its callback (async sends)."""
    metrics.add_metric(name="CompletedRuns", unit="Count", value=1)
    metrics.add_metric(name="PromptTokens", unit="Count", value=state.usage.prompt_tokens)
    metrics.add_metric(name="CompletionTokens", unit="Count", value=state.usage.completion_tokens)
    if state.callback_url:
        callbacks.send_callback(state.org_id, state.run_id)


def continue_run(state: RunState) -> RunState:
    """Start the run's next execution, named after the run and its turn. Express does not deduplicate names: a
    retried start can run the turn twice at once, and then its step key keeps the transcript single (the second
    commit replays the first), though the model is called twice."""
    logger.info("run continues in a new execution", extra={"run_id": state.run_id, "turn": state.turn})
    starter.start_run(state.run_id, state.model_copy(update={"next": "turn"}).dump(), name=f"{state.run_id}-t{state.turn:03d}")
    return state


def fail(state: RunState, error: Optional[dict[str, Any]]) -> RunState:
    state = lifecycle.fail(state, RunFailure.from_catch(error))
    if state.callback_url:
        callbacks.send_callback(state.org_id, state.run_id)
    return state
