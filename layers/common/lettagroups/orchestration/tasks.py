"""The task of the group-run state machine (statemachines/group-run.asl.json): one function per `action`.

Every task is idempotent: agent steps are keyed by (run, step key) and written all-or-nothing with their step
record, so a task re-run by Step Functions finds its step done and returns the same state instead of writing twice.
Tasks take and return the small `$.run` state (ids and counters, `state.RunState`); messages stay in DynamoDB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import StorageUnavailableError
from . import background, turns
from .failure import failed, retryable
from .policies import supervisor
from .state import RunState


def _turn(state: RunState, event: dict[str, Any]) -> dict[str, Any]:
    return turns.take_turn(state, event.get("started_at")).dump()


def _worker(state: RunState, event: dict[str, Any]) -> dict[str, Any]:
    return supervisor.worker_step(state, str(event["worker_id"]), int(event["index"]))


def _worker_failed(state: RunState, event: dict[str, Any]) -> dict[str, Any]:
    return supervisor.worker_failed(state, str(event["worker_id"]), int(event["index"]), event.get("error") or {})


def _continue(state: RunState, event: dict[str, Any]) -> dict[str, Any]:
    return turns.continue_run(state).dump()


def _fail(state: RunState, event: dict[str, Any]) -> dict[str, Any]:
    return turns.fail(state, event.get("error")).dump()


def _background(state: RunState, event: dict[str, Any]) -> dict[str, Any]:
    return background.run_pass(state).dump()


def _background_failed(state: RunState, event: dict[str, Any]) -> dict[str, Any]:
    return background.pass_failed(state, event.get("error") or {}).dump()


ACTIONS: dict[str, Callable[[RunState, dict[str, Any]], dict[str, Any]]] = {
    "turn": _turn,
    "worker": _worker,
    "worker_failed": _worker_failed,
    "continue": _continue,
    "fail": _fail,
    "background": _background,
    "background_failed": _background_failed,
}


def dispatch(event: dict[str, Any]) -> dict[str, Any]:
    action = ACTIONS.get(str(event.get("action")))
    if action is None:
        raise failed(f"unknown action {event.get('action')!r}")
    state = RunState.model_validate(event["run"])
    try:
        return action(state, event)
    except StorageUnavailableError as exc:
        # A storage hiccup outside an agent step: the state machine retries errors of this name.
        raise retryable(f"storage unavailable: {exc.detail}") from exc
