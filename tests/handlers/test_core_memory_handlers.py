"""Letta's core-memory routes and `GET /v1/blocks/{block_id}/agents`, invoked with their sample events.

Shapes and operation ids are Letta 0.7.10's (letta-0.7.10-openapi.json). An agent holds at most one block per
label (409 otherwise); bad input is a 4xx that writes nothing; another organization's ids are 404
(test_tenant_isolation.py); the DynamoDB requests of each operation are few and never a Scan.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lettagroups.dal import attachments as attachments_dal
from lettagroups.dal import items, table
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import blocks as blocks_logic
from lettagroups.logic import core_memory
from lettagroups.models.agents import AgentState, CreateAgent, UpdateAgent
from lettagroups.models.blocks import Block
from lettagroups.models.identity import Actor

from support.builders import make_agent_state, make_block, make_group
from support.events import AGENT_PH, BLOCK_PH, invoke, load_event, substitute, with_body, with_query
from support.shapes import assert_fastapi_422

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def make_agent(actor: Actor, name: str = "fred", **fields: Any) -> AgentState:
    """This module's agents: fred by default, whose human block says "Sarah"; the AgentState, for its blocks."""
    return make_agent_state(actor, name, human="Sarah", **fields)


def event(name: str, agent_id: str = AGENT_PH, block_id: str = BLOCK_PH) -> dict[str, Any]:
    return substitute(load_event(name), {AGENT_PH: agent_id, BLOCK_PH: block_id})


def labels_of(state: dict[str, Any]) -> dict[str, str]:
    return {b["label"]: b["id"] for b in state["memory"]["blocks"]}


def holders(actor: Actor, block_id: str) -> list[str]:
    return [a.id for a in core_memory.list_agents_for_block(actor, block_id)]


class CountingClient:
    """Wraps the DynamoDB client and counts the requests an operation makes, by API name."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        if not callable(attr) or name.startswith("_") or name in ("meta", "exceptions"):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attr(*args, **kwargs)

        return counted


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch, emulation: object) -> CountingClient:
    wrapper = CountingClient(table.client())
    for module in (table, items):  # items.py imported the function itself
        monkeypatch.setattr(module, "client", lambda: wrapper)
    return wrapper


# --- list ---------------------------------------------------------------------------------------


def test_list_core_memory_blocks_in_memory_order_with_full_blocks(actor: Actor):
    # Given an agent with a persona and a human block
    agent = make_agent(actor)
    # When the list event (limit=10) is invoked
    status, body = invoke(event("list-core-memory-blocks", agent.id), actor)
    # Then its blocks come back as full Block objects, in the order of memory.blocks
    assert status == 200
    assert [(b["label"], b["value"]) for b in body] == [("persona", "I am fred."), ("human", "Sarah")]
    assert [b["id"] for b in body] == [b.id for b in agent.memory.blocks]
    assert all(set(b) == set(Block.model_fields) for b in body)


def test_list_core_memory_blocks_pages_with_order_and_cursors(actor: Actor):
    # Given an agent holding five blocks: two of its own, then three attached (the oldest created last)
    agent = make_agent(actor)
    extra = [make_block(actor, f"notes-{i}") for i in range(3)]
    for block_id in reversed(extra):
        core_memory.attach_block(actor, agent.id, block_id)
    by_creation = sorted([b.id for b in agent.memory.blocks] + extra)
    # When paged newest first, two at a time, with after=<last block of the page> (as letta-client 1.x does)
    seen: list[str] = []
    page = [
        b["id"] for b in invoke(with_query(event("list-core-memory-blocks", agent.id), {"order": "desc", "limit": "2"}), actor)[1]
    ]
    while page:
        seen += page
        query = {"order": "desc", "limit": "2", "after": page[-1]}
        page = [b["id"] for b in invoke(with_query(event("list-core-memory-blocks", agent.id), query), actor)[1]]
    # Then every block comes once, newest first by creation
    assert seen == by_creation[::-1]
    # And without an order the list keeps the memory order, which `before` pages back through
    memory_order = [b["id"] for b in invoke(with_query(event("list-core-memory-blocks", agent.id), {}), actor)[1]]
    assert memory_order == [b.id for b in agent.memory.blocks] + extra[::-1]
    query = {"before": memory_order[-1], "limit": "2"}
    assert [b["id"] for b in invoke(with_query(event("list-core-memory-blocks", agent.id), query), actor)[1]] == memory_order[
        -3:-1
    ]


def test_list_core_memory_blocks_errors(actor: Actor):
    agent = make_agent(actor)
    # When the agent does not exist, or a cursor is not one of its blocks, or the order is unknown
    missing = invoke(event("list-core-memory-blocks"), actor)
    bad_cursor = invoke(with_query(event("list-core-memory-blocks", agent.id), {"after": BLOCK_PH}), actor)
    status, body = invoke(with_query(event("list-core-memory-blocks", agent.id), {"order": "sideways"}), actor)
    # Then 404s with Letta's texts, and a FastAPI-shaped 422
    assert missing == (404, {"detail": f"Agent not found with id={AGENT_PH}"})
    assert bad_cursor == (404, {"detail": f"No block found with id '{BLOCK_PH}'"})
    assert status == 422
    assert_fastapi_422(body, ["query", "order"], "literal_error")


# --- retrieve and modify by label -----------------------------------------------------------------


def test_retrieve_core_memory_block_by_label(actor: Actor):
    agent = make_agent(actor)
    # When the retrieve event names the human label
    status, body = invoke(event("retrieve-core-memory-block", agent.id), actor)
    # Then that block comes back
    assert status == 200
    assert (body["id"], body["label"], body["value"]) == (labels_of(agent.model_dump())["human"], "human", "Sarah")
    # And an unknown label or agent is 404
    unknown = substitute(event("retrieve-core-memory-block", agent.id), {"/human": "/nope", '"human"': '"nope"'})
    assert invoke(unknown, actor) == (404, {"detail": f"No block with label 'nope' found for agent '{agent.id}'"})
    assert invoke(event("retrieve-core-memory-block"), actor)[0] == 404


def test_modify_core_memory_block_edits_the_block_every_holder_sees(actor: Actor):
    # Given a human block shared by two agents through a group
    fred, velma = make_agent(actor, "fred"), make_agent(actor, "velma")
    shared = make_block(actor, "notes", "v1")
    make_group(actor, [fred.id, velma.id], shared_block_ids=[shared])
    # When fred's notes block is modified by label, value and limit (a BlockUpdate)
    modify = substitute(event("modify-core-memory-block", fred.id), {"/human": "/notes", '"human"': '"notes"'})
    status, body = invoke(modify, actor)
    # Then the block changed, and velma sees it too
    assert status == 200
    assert (body["id"], body["value"], body["limit"], body["label"]) == (
        shared,
        "The user is Sarah, a fan of mysteries.",
        6000,
        "notes",
    )
    assert blocks_logic.retrieve_block(actor, shared).value == body["value"]
    velma_blocks = {b.label: b.value for b in agents_logic.retrieve_agent(actor, velma.id).memory.blocks}
    assert velma_blocks["notes"] == body["value"]


def test_modify_core_memory_block_bad_input_writes_nothing(actor: Actor):
    agent = make_agent(actor)
    human = labels_of(agent.model_dump())["human"]
    base = event("modify-core-memory-block", agent.id)
    # When the value exceeds the limit sent with it, or the block's own limit, or the body is missing
    too_long = invoke(with_body(base, {"value": "x" * 11, "limit": 10}), actor)
    over_stored = invoke(with_body(base, {"value": "x" * 5001}), actor)
    no_body = invoke(with_body(base, None), actor)
    # Then 422 (FastAPI shape) or 400, and the block is unchanged
    assert too_long[0] == 422 and "character limit" in too_long[1]["detail"][0]["msg"]
    assert over_stored == (400, {"detail": "Edit failed: Exceeds 5000 character limit (requested 5001)"})
    assert no_body[0] == 422
    assert_fastapi_422(no_body[1], ["body"], "missing")
    assert blocks_logic.retrieve_block(actor, human).value == "Sarah"


def test_relabelling_through_core_memory_onto_a_used_label_is_409(actor: Actor):
    agent = make_agent(actor)
    # When the human block is relabelled to persona, which the agent already uses
    status, body = invoke(with_body(event("modify-core-memory-block", agent.id), {"label": "persona"}), actor)
    # Then 409 and nothing changed
    assert status == 409 and "persona" in body["detail"]
    assert sorted(labels_of(agents_logic.retrieve_agent(actor, agent.id).model_dump())) == ["human", "persona"]


# --- attach and detach -----------------------------------------------------------------------------


def test_attach_then_detach_a_block(actor: Actor):
    # Given an agent and a standalone block
    agent = make_agent(actor)
    notes = make_block(actor, "notes", "clue list")
    # When the block is attached
    status, state = invoke(event("attach-core-memory-block", agent.id, notes), actor)
    # Then the answer is the agent's full state, holding the block, and the block lists the agent
    assert status == 200
    assert set(AgentState.model_fields) <= set(state) and state["id"] == agent.id
    assert labels_of(state)["notes"] == notes
    assert holders(actor, notes) == [agent.id]
    # When it is attached again, then nothing changes (one block per label; this is that block)
    status, again = invoke(event("attach-core-memory-block", agent.id, notes), actor)
    assert status == 200 and [b["id"] for b in again["memory"]["blocks"]] == [b["id"] for b in state["memory"]["blocks"]]
    # When it is detached
    status, state = invoke(event("detach-core-memory-block", agent.id, notes), actor)
    # Then the agent no longer holds it, the block still exists, and it lists no agent
    assert status == 200 and "notes" not in labels_of(state)
    assert blocks_logic.retrieve_block(actor, notes).value == "clue list"
    assert holders(actor, notes) == []
    # And detaching it again is 404 with Letta's text
    status, body = invoke(event("detach-core-memory-block", agent.id, notes), actor)
    assert status == 404
    assert body["detail"].startswith(f"No block with id '{notes}' found for agent '{agent.id}'")


def test_attaching_a_second_block_under_a_used_label_is_409_and_writes_nothing(actor: Actor):
    agent = make_agent(actor)
    other_human = make_block(actor, "human", "someone else")
    # When a block labelled human is attached to an agent that has a human block
    status, body = invoke(event("attach-core-memory-block", agent.id, other_human), actor)
    # Then 409, and neither the agent nor the block's agents changed
    assert status == 409 and "human" in body["detail"]
    assert agents_logic.retrieve_agent(actor, agent.id).model_dump() == agent.model_dump()
    assert holders(actor, other_human) == []


def test_attach_and_detach_unknown_ids_are_404(actor: Actor):
    agent = make_agent(actor)
    block = make_block(actor, "notes")
    # When the block or the agent does not exist
    # Then 404, and nothing was written
    assert invoke(event("attach-core-memory-block", agent.id), actor) == (404, {"detail": f"Block not found with id={BLOCK_PH}"})
    assert invoke(event("attach-core-memory-block", block_id=block), actor) == (
        404,
        {"detail": f"Agent not found with id={AGENT_PH}"},
    )
    assert invoke(event("detach-core-memory-block", block_id=block), actor)[0] == 404
    assert holders(actor, block) == []
    assert agents_logic.retrieve_agent(actor, agent.id).model_dump() == agent.model_dump()


# --- agents of a block -----------------------------------------------------------------------------


def test_list_agents_for_block_follows_every_way_a_block_is_attached(actor: Actor):
    # Given a block attached at agent creation, through a group's shared blocks and through the attach route
    block = make_block(actor, "notes")
    first = agents_logic.create_agent(actor, CreateAgent(name="first", block_ids=[block])).id
    second, third = make_agent(actor, "second").id, make_agent(actor, "third").id
    make_group(actor, [second], shared_block_ids=[block])
    core_memory.attach_block(actor, third, block)
    # When the list-agents-for-block event names it
    status, body = invoke(event("list-agents-for-block", block_id=block), actor)
    # Then the three agents come back as full states, in creation order
    assert status == 200
    assert [a["id"] for a in body] == [first, second, third]
    assert all(set(AgentState.model_fields) <= set(a) for a in body)
    # When an agent is modified to drop it, and another is deleted
    agents_logic.modify_agent(actor, first, UpdateAgent(block_ids=[]))
    agents_logic.delete_agent(actor, third)
    # Then only the remaining holder is listed
    assert holders(actor, block) == [second]
    # And an unknown block is 404 with Letta's text
    assert invoke(event("list-agents-for-block"), actor) == (404, {"detail": f"Block with id={BLOCK_PH} not found"})


def test_list_agents_for_block_pages_with_order_and_cursors(actor: Actor):
    block = make_block(actor, "notes")
    made = [agents_logic.create_agent(actor, CreateAgent(name=f"a{i}", block_ids=[block])).id for i in range(7)]
    for order, expected in (("asc", made), ("desc", made[::-1])):
        # When paged 3 at a time with after=<last agent of the page>
        seen: list[str] = []
        query = {"order": order, "limit": "3"}
        page = [a["id"] for a in invoke(with_query(event("list-agents-for-block", block_id=block), query), actor)[1]]
        while page:
            seen += page
            page = [
                a["id"]
                for a in invoke(with_query(event("list-agents-for-block", block_id=block), {**query, "after": page[-1]}), actor)[
                    1
                ]
            ]
        # Then every agent comes once, in that order
        assert seen == expected
        # And `before` gives the agents right before the cursor in that order
        before = {**query, "before": expected[5]}
        assert [
            a["id"] for a in invoke(with_query(event("list-agents-for-block", block_id=block), before), actor)[1]
        ] == expected[2:5]


def test_a_back_reference_left_by_a_failed_write_is_never_listed(actor: Actor):
    # Given a block's back-reference naming an agent that does not hold the block (a write that failed halfway)
    block = make_block(actor, "notes")
    holder = agents_logic.create_agent(actor, CreateAgent(name="holder", block_ids=[block])).id
    stranger = make_agent(actor, "stranger").id
    attachments_dal.transact_with(actor.organization_id, [], attached=[(stranger, block)])
    # When the block's agents are listed, with and without a limit
    # Then only the real holder comes back
    assert holders(actor, block) == [holder]
    assert [a.id for a in core_memory.list_agents_for_block(actor, block, limit=1, order="desc")] == [holder]
    # And deleting the block clears every back-reference, the stale one included
    blocks_logic.delete_block(actor, block)
    assert list(attachments_dal.iter_agent_ids(actor.organization_id, block)) == []


# --- requests per operation ----------------------------------------------------------------------------


def test_each_operation_makes_few_dynamodb_requests_and_never_scans(actor: Actor, counting: CountingClient):
    # Given an agent with two blocks, a standalone block and a second holder of the human block
    agent = make_agent(actor)
    other = make_agent(actor, "velma")
    human = labels_of(agent.model_dump())["human"]
    core_memory.detach_block(actor, other.id, labels_of(other.model_dump())["human"])
    core_memory.attach_block(actor, other.id, human)
    notes = make_block(actor, "notes")
    operations = {
        "list": (event("list-core-memory-blocks", agent.id), {"get_item": 1, "batch_get_item": 1}),
        "retrieve": (event("retrieve-core-memory-block", agent.id), {"get_item": 2}),
        "modify": (
            with_body(event("modify-core-memory-block", agent.id), {"value": "Sam"}),
            {"get_item": 2, "transact_write_items": 1},
        ),
        "attach": (
            event("attach-core-memory-block", agent.id, notes),
            {"get_item": 2, "transact_write_items": 1, "batch_get_item": 1},
        ),
        "detach": (
            event("detach-core-memory-block", agent.id, notes),
            {"get_item": 1, "transact_write_items": 1, "batch_get_item": 1},
        ),
        "agents": (event("list-agents-for-block", block_id=human), {"get_item": 1, "query": 1, "batch_get_item": 2}),
    }
    for name, (request, expected) in operations.items():
        counting.calls.clear()
        # When each operation runs
        status, body = invoke(request, actor)
        # Then it makes exactly the requests the README's API table lists, and never a Scan
        assert status == 200, (name, body)
        assert dict(counting.calls) == expected, name
