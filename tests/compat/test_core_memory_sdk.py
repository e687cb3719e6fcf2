"""letta-client 0.1.138's core-memory and block-agents methods over real HTTP against the local server.

`client.agents.blocks.list/retrieve/modify/attach/detach` and `client.blocks.agents.list` must work unchanged.
The SDK builds responses without validation, so the tests assert the fields themselves.
"""

from __future__ import annotations

import httpx
import pytest
from letta_client import AgentState, Block, CreateBlock, Letta
from letta_client.core.api_error import ApiError
from letta_client.errors.unprocessable_entity_error import UnprocessableEntityError

from support.shapes import assert_error
from support.trackers import Tracker

pytestmark = pytest.mark.compat


def labels(agent: AgentState) -> dict[str, str]:
    return {b.label: b.id for b in agent.memory.blocks}


def test_sdk_lists_retrieves_and_modifies_an_agents_blocks(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    # Given an agent with a persona and a human block
    agent = made.agent(memory_blocks=[CreateBlock(label="persona", value="I am fred"), CreateBlock(label="human", value="Sarah")])
    # When its blocks are listed
    listed = letta.agents.blocks.list(agent.id)
    # Then they are the agent's memory blocks, in order, with every Block field on the wire
    assert [(b.label, b.value, b.id) for b in listed] == [(b.label, b.value, b.id) for b in agent.memory.blocks]
    raw = http.get(f"/v1/agents/{agent.id}/core-memory/blocks").json()
    assert len(raw) == 2 and all(set(Block.model_fields) <= set(b) for b in raw)
    # When one is retrieved by label
    human = letta.agents.blocks.retrieve(agent.id, "human")
    assert (human.id, human.label, human.value, human.limit) == (labels(agent)["human"], "human", "Sarah", 5000)
    # When it is modified by label
    modified = letta.agents.blocks.modify(agent.id, "human", value="Sarah likes mysteries", limit=6000)
    # Then the block changed, as the blocks API and the agent see it
    assert (modified.id, modified.value, modified.limit) == (human.id, "Sarah likes mysteries", 6000)
    assert letta.blocks.retrieve(human.id).value == "Sarah likes mysteries"
    assert {b.label: b.value for b in letta.agents.retrieve(agent.id).memory.blocks}["human"] == "Sarah likes mysteries"


def test_sdk_attach_detach_and_list_the_agents_of_a_block(letta: Letta, made: Tracker) -> None:
    # Given two agents and a standalone block
    fred = made.agent(memory_blocks=[CreateBlock(label="persona", value="fred")])
    velma = made.agent(memory_blocks=[CreateBlock(label="persona", value="velma")])
    notes = made.block("notes", "clues")
    # When the block is attached to both
    state = letta.agents.blocks.attach(fred.id, notes.id)
    letta.agents.blocks.attach(velma.id, notes.id)
    # Then the answer is the agent's state holding it, and the block lists both agents as full states
    assert state.id == fred.id and labels(state)["notes"] == notes.id
    holders = letta.blocks.agents.list(notes.id)
    assert [a.id for a in holders] == [fred.id, velma.id]
    assert all(isinstance(a, AgentState) and a.llm_config.model and a.memory.blocks for a in holders)
    # When it is detached from fred
    state = letta.agents.blocks.detach(fred.id, notes.id)
    # Then fred no longer has it, velma still does, and the block exists
    assert "notes" not in labels(state)
    assert [a.id for a in letta.blocks.agents.list(notes.id)] == [velma.id]
    assert letta.blocks.retrieve(notes.id).value == "clues"


def test_sdk_errors_are_clear_and_write_nothing(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    agent = made.agent(memory_blocks=[CreateBlock(label="human", value="Sarah")])
    other_human = made.block("human", "someone else")
    # When a second human block is attached: 409, and the agent is unchanged
    with pytest.raises(ApiError) as caught:
        letta.agents.blocks.attach(agent.id, other_human.id)
    assert caught.value.status_code == 409 and "human" in caught.value.body["detail"]
    assert letta.agents.retrieve(agent.id).model_dump() == agent.model_dump()
    assert letta.blocks.agents.list(other_human.id) == []
    # When a label, a block or an agent does not exist: 404s
    for call in (
        lambda: letta.agents.blocks.retrieve(agent.id, "nope"),
        lambda: letta.agents.blocks.modify(agent.id, "nope", value="x"),
        lambda: letta.agents.blocks.detach(agent.id, other_human.id),
        lambda: letta.agents.blocks.attach(agent.id, "block-00000000-0000-4000-8000-000000000000"),
        lambda: letta.agents.blocks.list("agent-00000000-0000-4000-8000-000000000000"),
        lambda: letta.blocks.agents.list("block-00000000-0000-4000-8000-000000000000"),
    ):
        with pytest.raises(ApiError) as caught:
            call()
        assert caught.value.status_code == 404 and caught.value.body["detail"]
    # When a modify's value exceeds the limit sent with it: 422 the SDK parses
    with pytest.raises(UnprocessableEntityError):
        letta.agents.blocks.modify(agent.id, "human", value="x" * 20, limit=10)
    # When modify is called with no fields: the SDK sends no body, which is a 422 on the body
    with pytest.raises(UnprocessableEntityError):
        letta.agents.blocks.modify(agent.id, "human")
    assert_error(http.patch(f"/v1/agents/{agent.id}/core-memory/blocks/human"), 422)
    # And nothing changed
    assert letta.agents.blocks.retrieve(agent.id, "human").value == "Sarah"


@pytest.mark.parametrize("agent_type", ["memgpt_agent", "sleeptime_agent", "voice_sleeptime_agent"])
def test_enable_sleeptime_creates_the_sleeptime_group_for_every_non_voice_convo_type(
    letta: Letta, made: Tracker, agent_type: str
) -> None:
    """Letta 0.7.7 (server.create_agent): a voice_convo_agent gets a voice_sleeptime group, every other type a
    sleeptime group."""
    before = letta.groups.count()
    # When an agent of that type is created with enable_sleeptime
    main = made.agent(agent_type=agent_type, memory_blocks=[CreateBlock(label="human", value="h")], enable_sleeptime=True)
    group = main.multi_agent_group
    # Then it manages a new sleeptime group whose one participant is its sleeptime agent, sharing its blocks
    assert group is not None and group.manager_type == "sleeptime" and group.manager_agent_id == main.id
    assert (group.sleeptime_agent_frequency, group.turns_counter) == (5, -1)
    assert letta.groups.count() == before + 1
    sleeper = letta.agents.retrieve(group.agent_ids[0])
    made.agents.append(sleeper.id)
    assert (sleeper.name, sleeper.agent_type) == (f"{main.name}-sleeptime", "sleeptime_agent")
    assert labels(main)["human"] == labels(sleeper)["human"]
    assert sorted(a.id for a in letta.blocks.agents.list(labels(main)["human"])) == sorted([main.id, sleeper.id])


def test_enable_sleeptime_again_after_the_group_was_deleted_creates_a_new_one(letta: Letta, made: Tracker) -> None:
    """Letta 0.7.7 (server.update_agent): enable_sleeptime=true on an agent that manages no group creates one,
    whatever its flag says."""
    main = made.agent(memory_blocks=[CreateBlock(label="human", value="h")], enable_sleeptime=True)
    first = main.multi_agent_group
    made.agents.append(first.agent_ids[0])
    letta.groups.delete(first.id)
    # When enable_sleeptime=true is sent again
    modified = letta.agents.modify(main.id, enable_sleeptime=True)
    # Then a new sleeptime group exists
    group = modified.multi_agent_group
    assert group is not None and group.id != first.id and group.manager_type == "sleeptime"
    made.agents.append(group.agent_ids[0])
