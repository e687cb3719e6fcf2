"""How the packaged tests drive a group run through the group-run task: THE one place that knows the task's
payload (`{"action": ..., "run": <state>}`) and the order of the round-robin states of
statemachines/group-run.asl.json. When the state machine or its payload changes, change this file only.

The run itself is started by the real send logic (lock, run record, inputs); only the Step Functions start is
captured instead of made, which gives the exact initial state the state machine would receive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lettagroups.logic import group_messages
from lettagroups.models.identity import Actor
from lettagroups.models.messages import LettaRequest, MessageCreate
from lettagroups.orchestration import starter

Invoke = Callable[[dict[str, Any]], dict[str, Any]]  # one task invocation: {"result": ...} or {"errorType", ...}


def start_run(actor: Actor, group_id: str, text: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Start a send like the send handler does; returns the state machine's input state."""
    started: dict[str, Any] = {}

    def capture(run_id: str, state: dict[str, Any]) -> str:
        started.update(state)
        return f"arn:aws:states:us-east-1:123456789012:execution:letta-groups-group-run:{run_id}"

    monkeypatch.setattr(starter, "start_run", capture)
    group_messages.start_run(actor, group_id, LettaRequest(messages=[MessageCreate(role="user", content=text)]))
    return started


def run_round_robin(invoke: Invoke, state: dict[str, Any]) -> dict[str, Any]:
    """Prepare → RoundRobinTurn until done → Finalize, as the state machine sequences them; on a task error,
    FailRun with the error Step Functions would pass. Returns {"state": last state, "error": task error or None}."""
    error = None
    for action in ("prepare", "round_robin_turn", "finalize"):
        while True:
            reply = invoke({"action": action, "run": state})
            if "errorType" in reply:
                error = {"Error": reply["errorType"], "Cause": _cause(reply)}
                failed = invoke({"action": "fail", "run": state, "error": error})
                assert "result" in failed, failed
                return {"state": failed["result"], "error": error}
            state = reply["result"]
            if action != "round_robin_turn" or state.get("done"):
                break
    return {"state": state, "error": error}


def _cause(reply: dict[str, Any]) -> str:
    import json

    return json.dumps({"errorType": reply["errorType"], "errorMessage": reply["errorMessage"]})
