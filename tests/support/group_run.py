"""How tests drive a group run through the group-run task: THE one place that knows the task's payload
(`{"action": ..., "run": <state>, ...}`) and how statemachines/group-run.asl.json sequences a round robin
(Turn → WhatNext on `run.next` → Turn | Continue | Done; a task error → FailRun). When the state machine or its
payload changes, change this file only.

`run_turn` runs one turn in this process (the workflow tests); `run_round_robin` drives a whole run through any
`invoke` (the packaged tests: a built function in a warm container). The run itself is begun by the real send logic
(lock, run record, inputs), not started: its state is exactly what the state machine would receive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from lettagroups.logic import group_messages, sending
from lettagroups.logic import groups as groups_logic
from lettagroups.models.identity import Actor
from lettagroups.models.messages import LettaRequest, MessageCreate
from lettagroups.orchestration.state import RunState

Invoke = Callable[[dict[str, Any]], dict[str, Any]]  # one task invocation: {"result": ...} or {"errorType", ...}


def begin_run(actor: Actor, group_id: str, request: LettaRequest) -> RunState:
    """A new run of a group, written by the real send logic (lock, run record, inputs) but not started."""
    target = group_messages.group_target(actor, groups_logic.load_group(actor, group_id))
    opened = sending.open_run(actor, target, request, door="sync")
    assert opened.state is not None
    return opened.state


def start_run(actor: Actor, group_id: str, text: str) -> dict[str, Any]:
    """Begin a send like the send handler does; returns the state machine's input state."""
    return begin_run(actor, group_id, LettaRequest(messages=[MessageCreate(role="user", content=text)])).dump()


def task_event(action: str, state: dict[str, Any], started_at: str | None = None) -> dict[str, Any]:
    """The task's input for `action` ("turn", "continue") on `state`, as the state machine passes it."""
    return {"action": action, "run": state, "started_at": started_at or datetime.now(UTC).isoformat()}


def run_turn(state: dict[str, Any]) -> dict[str, Any]:
    """One turn task in this process, as the state machine runs it (re-running it with the same input is a Step
    Functions retry)."""
    from lettagroups.orchestration import tasks

    return tasks.dispatch(task_event("turn", state))


def run_round_robin(invoke: Invoke, state: dict[str, Any]) -> dict[str, Any]:
    """Turn until `next` says otherwise (Continue when it says so), as the state machine sequences them; on a task
    error, FailRun with the error Step Functions would pass. Returns {"state": last state, "error": task error or None}."""
    started_at = datetime.now(UTC).isoformat()
    action = "turn"
    while True:
        reply = invoke(task_event(action, state, started_at))
        if "errorType" in reply:
            error = {"Error": reply["errorType"], "Cause": _cause(reply)}
            failed = invoke({"action": "fail", "run": state, "error": error})
            assert "result" in failed, failed
            return {"state": failed["result"], "error": error}
        if action == "continue":  # ResultPath null: the state machine keeps its state and ends
            return {"state": state, "error": None}
        state = reply["result"]
        if state.get("next") == "turn":
            continue
        if state.get("next") == "continue":
            action = "continue"
            continue
        return {"state": state, "error": None}


def _cause(reply: dict[str, Any]) -> str:
    return json.dumps({"errorType": reply["errorType"], "errorMessage": reply["errorMessage"]})
