"""Waiting for a run to finish, through each door a test uses: the logic layer, raw HTTP, letta-client; and a
group's run records."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from lettagroups.models.identity import Actor
    from lettagroups.models.records import RunRecord
    from lettagroups.models.runs import Run

FINISHED = ("completed", "failed", "cancelled")


def wait_for_run(actor: Actor, run_id: str, timeout: float = 20.0) -> Run:
    """The run once it finished, through the logic layer (as it stands after `timeout` otherwise)."""
    from lettagroups.logic import runs as runs_logic

    deadline = time.monotonic() + timeout
    while True:
        run = runs_logic.retrieve_run(actor, run_id)
        if run.status in FINISHED or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def wait_for_run_http(http: httpx.Client, run_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """The run once it finished, from `GET /v1/runs/{run_id}`; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        run = http.get(f"/v1/runs/{run_id}").json()
        if run.get("status") in FINISHED:
            return dict(run)
        assert time.monotonic() < deadline, f"run {run_id} still {run.get('status')}"
        time.sleep(0.05)


def wait_for_run_sdk(letta: Any, run_id: str, timeout: float = 30.0) -> Any:
    """The run once it finished, from letta-client's `runs.retrieve`; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while (run := letta.runs.retrieve(run_id)).status not in FINISHED:
        assert time.monotonic() < deadline, f"run {run_id} still {run.status}"
        time.sleep(0.05)
    return run


def group_runs(actor: Actor, group_id: str, kind: str = "group") -> list[RunRecord]:
    """The run records of a group (oldest first); `kind` is "group" (sends) or "background"."""
    from lettagroups.dal import runs as runs_dal

    mine = runs_dal.iter_user_runs(actor.organization_id, actor.user_id)
    return [r for r in mine if r.conversation_id == group_id and r.kind == kind]
