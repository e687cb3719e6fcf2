"""`GET /v1/runs` pages (contract §12a, later Letta's cursors): read from the user's runs index a page at a time, each
page exactly the window the cursors name over the user's whole (filtered) list of runs."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from lettagroups.errors import BadRequestError, NotFoundError
from lettagroups.logic import agent_messages, paging, runs
from lettagroups.models.identity import Actor
from lettagroups.models.runs import Run

from support.builders import make_agent, request


@pytest.fixture
def five_runs(run_env: Actor) -> tuple[Actor, str, str]:
    """The actor and two agents, fred and velma, sent to in turn: three runs of fred's, two of velma's."""
    actor = run_env
    fred, velma = make_agent(actor, "fred"), make_agent(actor, "velma")
    for agent in (fred, velma, fred, velma, fred):
        agent_messages.send_message(actor, agent, request("hello"))
    return actor, fred, velma


def _ids(listed: list[Run]) -> list[str]:
    return [r.id for r in listed]


def test_every_window_of_the_list_is_the_window_over_the_whole_list(five_runs: tuple[Actor, str, str]):
    # Given five runs of two agents
    actor, fred, _ = five_runs
    everything = runs.list_runs(actor)
    assert len(everything) == 5 and _ids(everything) == sorted(_ids(everything))
    freds = runs.list_runs(actor, [fred])
    assert len(freds) == 3 and all(r.metadata["agent_id"] == fred for r in freds)
    # When pages are asked with every combination of cursors, limit and order, with and without the agent filter
    for agents, whole in ((None, everything), ([fred], freds)):
        ids = _ids(whole)
        for order in ("asc", "desc"):
            in_order = ids if order == "asc" else ids[::-1]
            cursors: list[Optional[str]] = [None, *in_order]
            for after in cursors:
                for before in cursors:
                    if after and before and in_order.index(after) >= in_order.index(before):
                        continue
                    for limit in (None, 0, 1, 2, 10):
                        got = runs.list_runs(actor, agents, after=after, before=before, limit=limit, order=order)  # type: ignore[arg-type]
                        # Then each is exactly the window over the whole list
                        expected = paging.window(whole, ids, after=after, before=before, limit=limit, order=order)  # type: ignore[arg-type]
                        assert _ids(got) == _ids(expected), (agents, order, after, before, limit)


def test_a_cursor_outside_the_list_is_a_404_and_crossed_cursors_a_400(five_runs: tuple[Actor, str, str]):
    # Given five runs, three of them fred's
    actor, fred, velma = five_runs
    ids = _ids(runs.list_runs(actor))
    velmas = _ids(runs.list_runs(actor, [velma]))
    # When a cursor names no run of the user, or (with a filter) a run the filter leaves out, Then 404
    kwargs: list[dict[str, Any]] = [
        {"after": "run-00000000-0000-7000-8000-000000000000"},
        {"before": "run-00000000-0000-7000-8000-000000000000"},
        {"agent_ids": [fred], "after": velmas[0]},
    ]
    for given in kwargs:
        with pytest.raises(NotFoundError, match="No run found with id"):
            runs.list_runs(actor, **given)
    # When `after` is not before `before` in the asked order, Then 400
    with pytest.raises(BadRequestError, match="'before' reference must be later than 'after' reference"):
        runs.list_runs(actor, after=ids[3], before=ids[1])
    with pytest.raises(BadRequestError, match="'before' reference must be later than 'after' reference"):
        runs.list_runs(actor, after=ids[1], before=ids[3], order="desc")
    with pytest.raises(BadRequestError, match="'before' reference must be later than 'after' reference"):
        runs.list_runs(actor, after=ids[2], before=ids[2])
