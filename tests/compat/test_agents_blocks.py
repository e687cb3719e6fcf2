"""Agents and blocks through letta-client 0.1.138 against the local server.

The SDK builds responses without validation, so these tests assert the fields themselves (contract §10, and the
AgentState / Block shapes of Letta 0.7.10's OpenAPI). Sleeptime and voice groups: §8.4, §8.5, §9, SL-1..SL-4, SL-7,
VO-1, VO-2.
"""

from __future__ import annotations

import httpx
import pytest
from letta_client import (
    AgentState,
    Block,
    CreateBlock,
    DynamicManager,
    EmbeddingConfig,
    Letta,
    LlmConfig,
    SleeptimeManagerUpdate,
    SupervisorManager,
    TerminalToolRule,
)
from letta_client.core.api_error import ApiError

from support.sdk import api_status
from support.shapes import assert_error
from support.trackers import Tracker, unique

pytestmark = pytest.mark.compat

LLM = LlmConfig(
    model="gpt-4o-mini",
    model_endpoint_type="openai",
    model_endpoint="https://api.openai.com/v1",
    context_window=128000,
)
EMBEDDING = EmbeddingConfig(
    embedding_endpoint_type="openai",
    embedding_endpoint="https://api.openai.com/v1",
    embedding_model="text-embedding-3-small",
    embedding_dim=1536,
    embedding_chunk_size=300,
)
MEMORY_EDIT_TOOLS = {"core_memory_append", "core_memory_replace", "archival_memory_insert"}


def tool_names(agent: AgentState) -> list[str]:
    return [t.name for t in agent.tools or []]


def holders(letta: Letta, block_id: str, project: str) -> set[str]:
    """The agents of a project that hold a block."""
    return {a.id for a in letta.agents.list(project_id=project) if block_id in [b.id for b in a.memory.blocks]}


# --- agents -------------------------------------------------------------------------------------------------------


def test_create_agent_with_configs_returns_the_full_state(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    # When an agent is created as Letta's SDK tests do, plus tools, tags, metadata, description, rules and a type
    agent = made.agent(
        "caren",
        memory_blocks=[CreateBlock(label="human", value="username: sarah"), CreateBlock(label="persona", value="I am caren")],
        llm_config=LLM,
        embedding_config=EMBEDDING,
        tools=["send_message"],
        tags=["mystery-inc", "test"],
        metadata={"team": "a", "n": 1, "nested": {"ok": [1, 2.5, True, None]}},
        description="a test agent",
        agent_type="memgpt_agent",
        tool_rules=[TerminalToolRule(tool_name="send_message")],
    )
    # Then the raw state carries every field the SDK models
    raw = http.get(f"/v1/agents/{agent.id}").json()
    assert set(AgentState.model_fields) <= set(raw), set(AgentState.model_fields) - set(raw)
    # And the fields are what was asked for
    assert agent.id.startswith("agent-") and agent.name == "caren" and agent.agent_type == "memgpt_agent"
    assert agent.llm_config.model == "gpt-4o-mini" and agent.llm_config.model_endpoint_type == "openai"
    assert agent.llm_config.context_window == 128000
    assert agent.embedding_config.embedding_model == "text-embedding-3-small" and agent.embedding_config.embedding_dim == 1536
    assert [(b.label, b.value) for b in agent.memory.blocks] == [("human", "username: sarah"), ("persona", "I am caren")]
    assert all(b.id.startswith("block-") for b in agent.memory.blocks)
    assert "send_message" in tool_names(agent) and all(t.id.startswith("tool-") for t in agent.tools)
    assert agent.tags == ["mystery-inc", "test"]
    assert agent.metadata == {"team": "a", "n": 1, "nested": {"ok": [1, 2.5, True, None]}}
    assert agent.description == "a test agent"
    assert [(r.tool_name, r.type) for r in agent.tool_rules] == [("send_message", "exit_loop")]
    assert agent.system and agent.multi_agent_group is None and agent.enable_sleeptime is None
    assert raw["created_at"] and raw["created_by_id"].startswith("user-") and raw["sources"] == []
    # And retrieve returns the same state
    assert letta.agents.retrieve(agent.id).model_dump() == agent.model_dump()


def test_create_agent_from_handles_and_existing_blocks(letta: Letta, made: Tracker) -> None:
    # Given a standalone block
    shared = made.block("shared_notes", "notes")
    project = unique("agents")
    # When an agent is created from model handles, with that block and a project (sent as X-Project)
    agent = made.agent(
        "handled",
        model="openai/gpt-4o-mini",
        embedding="openai/text-embedding-3-small",
        context_window_limit=64000,
        block_ids=[shared.id],
        project=project,
    )
    # Then the handles resolve into configs, the block is attached as is, and the project is set
    assert (agent.llm_config.model, agent.llm_config.model_endpoint_type, agent.llm_config.handle) == (
        "gpt-4o-mini",
        "openai",
        "openai/gpt-4o-mini",
    )
    assert agent.llm_config.context_window == 64000
    assert (agent.embedding_config.embedding_model, agent.embedding_config.handle) == (
        "text-embedding-3-small",
        "openai/text-embedding-3-small",
    )
    assert [b.id for b in agent.memory.blocks] == [shared.id]
    assert agent.project_id == project
    assert [a.id for a in letta.agents.list(project_id=project)] == [agent.id]


def test_list_agents_filters(letta: Letta, made: Tracker) -> None:
    # Given three agents of one project with overlapping tags
    project = unique("tags")
    a = made.agent("a", tags=["x", "y"], project=project).id
    b = made.agent("b", tags=["x"], project=project).id
    c = made.agent("c", tags=["z"], project=project).id
    # Then list filters by project, name, any tag and all tags
    assert [g.id for g in letta.agents.list(project_id=project)] == [a, b, c]
    assert [g.id for g in letta.agents.list(project_id=project, name="b")] == [b]
    assert [g.id for g in letta.agents.list(project_id=project, tags=["x", "z"])] == [a, b, c]
    assert [g.id for g in letta.agents.list(project_id=project, tags=["x", "y"], match_all_tags=True)] == [a]
    assert [g.id for g in letta.agents.list(project_id=project, limit=2)] == [a, b]


def test_modify_and_delete_agent(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    agent = made.agent("before", tags=["t"], description="d", memory_blocks=[CreateBlock(label="persona", value="p")])
    # When some fields are modified
    modified = letta.agents.modify(
        agent.id, name="after", description="new", tags=["u"], metadata={"k": "v"}, model="openai/gpt-4o"
    )
    # Then those change and the rest stays
    for shown in (modified, letta.agents.retrieve(agent.id)):
        assert (shown.name, shown.description, shown.tags, shown.metadata) == ("after", "new", ["u"], {"k": "v"})
        assert shown.llm_config.model == "gpt-4o"
        assert [b.value for b in shown.memory.blocks] == ["p"] and shown.system == agent.system
    # When deleted
    assert letta.agents.delete(agent.id) == {"message": f"Agent id={agent.id} successfully deleted"}
    # Then it is gone everywhere
    assert_error(http.get(f"/v1/agents/{agent.id}"), 404, agent.id)
    assert_error(http.delete(f"/v1/agents/{agent.id}"), 404, agent.id)
    assert_error(http.patch(f"/v1/agents/{agent.id}", json={"name": "x"}), 404, agent.id)
    assert agent.id not in [a.id for a in letta.agents.list(limit=10_000)]


def test_sleeptime_agent_creates_its_group(letta: Letta, made: Tracker) -> None:
    """SL-1..SL-4 and SL-7."""
    project = unique("sleep")
    # When the main agent is created with enable_sleeptime
    main = made.agent(
        "main",
        memory_blocks=[CreateBlock(label="human", value=""), CreateBlock(label="persona", value="You are a friendly agent.")],
        model="openai/gpt-4o-mini",
        embedding="openai/text-embedding-3-small",
        enable_sleeptime=True,
        project=project,
    )
    # Then it has sleeptime on, no memory-edit tools, and manages an implicit sleeptime group (SL-1)
    assert main.enable_sleeptime is True
    assert not MEMORY_EDIT_TOOLS & set(tool_names(main)) and "send_message" in tool_names(main)
    group = main.multi_agent_group
    assert group is not None and group.manager_type == "sleeptime" and group.manager_agent_id == main.id
    assert (group.description, group.sleeptime_agent_frequency, group.turns_counter) == ("", 5, -1)
    assert len(group.agent_ids) == 1 and group.project_id == project
    # And the sleeptime agent has the memory tools and an exit_loop rule (SL-4), the main model and its own persona
    sleeper = letta.agents.retrieve(group.agent_ids[0])
    assert (sleeper.name, sleeper.agent_type) == ("main-sleeptime", "sleeptime_agent")
    assert {"memory_rethink", "memory_finish_edits", "memory_replace", "memory_insert"} <= set(tool_names(sleeper))
    assert any(r.type == "exit_loop" for r in sleeper.tool_rules)
    assert sleeper.llm_config.model == main.llm_config.model
    assert {b.label for b in sleeper.memory.blocks} == {"human", "persona", "memory_persona"}
    # And the human block is shared by exactly the two agents (SL-3)
    human = next(b for b in main.memory.blocks if b.label == "human")
    assert holders(letta, human.id, project) == {main.id, sleeper.id}
    # And the group is listed as the sleeptime agent's (it participates) but not the main agent's (it manages)
    assert [g.id for g in letta.agents.groups.list(sleeper.id)] == [group.id]
    assert letta.agents.groups.list(main.id) == []
    # When its frequency is modified (SL-2)
    modified = letta.groups.modify(group.id, manager_config=SleeptimeManagerUpdate(sleeptime_agent_frequency=2))
    assert (modified.manager_type, modified.sleeptime_agent_frequency, len(modified.agent_ids)) == ("sleeptime", 2, 1)
    # When the main agent is deleted (SL-7)
    letta.agents.delete(main.id)
    # Then the group and the sleeptime agent are gone too, and the count says so
    assert api_status(lambda: letta.groups.retrieve(group.id))[0] == 404
    assert api_status(lambda: letta.agents.retrieve(sleeper.id))[0] == 404
    assert letta.agents.list(project_id=project) == []


def test_enable_sleeptime_on_modify_creates_the_group(letta: Letta, made: Tracker) -> None:
    """§8.4: updating an agent to enable_sleeptime=True when it has no group."""
    agent = made.agent("later", memory_blocks=[CreateBlock(label="human", value="h")])
    before = letta.groups.count()
    modified = letta.agents.modify(agent.id, enable_sleeptime=True)
    assert modified.enable_sleeptime is True and modified.multi_agent_group.manager_type == "sleeptime"
    made.agents.append(modified.multi_agent_group.agent_ids[0])
    assert letta.groups.count() == before + 1


def test_voice_agent_creates_a_voice_sleeptime_group(letta: Letta, made: Tracker) -> None:
    """VO-1 and VO-2."""
    project = unique("voice")
    # When a voice agent is created with enable_sleeptime
    voice = made.agent(
        "voice",
        agent_type="voice_convo_agent",
        memory_blocks=[CreateBlock(label="human", value=""), CreateBlock(label="persona", value="voice")],
        enable_sleeptime=True,
        project=project,
    )
    # Then its group is voice_sleeptime with one participant and the default buffers
    group = voice.multi_agent_group
    assert group.manager_type == "voice_sleeptime" and len(group.agent_ids) == 1
    assert group.description == "Low latency voice chat with async memory management."
    assert (group.max_message_buffer_length, group.min_message_buffer_length) == (30, 15)
    # And the tools are split as Letta splits them
    assert set(tool_names(voice)) == {"send_message", "search_memory"}
    sleeper = letta.agents.retrieve(group.agent_ids[0])
    assert sleeper.agent_type == "voice_sleeptime_agent"
    assert {"store_memories", "rethink_user_memory", "finish_rethinking_memory"} <= set(tool_names(sleeper))
    human = next(b for b in voice.memory.blocks if b.label == "human")
    assert holders(letta, human.id, project) == {voice.id, sleeper.id}
    # When the voice agent is deleted, then the group and the sleeptime agent go with it (VO-2)
    letta.agents.delete(voice.id)
    assert api_status(lambda: letta.groups.retrieve(group.id))[0] == 404
    assert api_status(lambda: letta.agents.retrieve(sleeper.id))[0] == 404


def test_voice_agent_without_sleeptime_is_refused(letta: Letta) -> None:
    before = len(letta.agents.list(limit=10_000))
    assert api_status(lambda: letta.agents.create(name="v", agent_type="voice_convo_agent"))[0] == 400
    assert len(letta.agents.list(limit=10_000)) == before


@pytest.mark.parametrize("kind", ["supervisor", "dynamic"])
def test_deleting_a_manager_is_409_and_a_participant_stays_listed(letta: Letta, made: Tracker, kind: str) -> None:
    """§9: managers of non-cascading groups cannot be deleted; deleted participants keep their id in agent_ids."""
    # Given a group with a manager and two participants
    manager = made.agent("boss").id
    fred, velma = made.agent("fred").id, made.agent("velma").id
    config = SupervisorManager(manager_agent_id=manager) if kind == "supervisor" else DynamicManager(manager_agent_id=manager)
    group = made.group([fred, velma], "", manager_config=config)
    # When the manager is deleted
    with pytest.raises(ApiError) as caught:
        letta.agents.delete(manager)
    # Then 409, and manager and group are intact
    assert caught.value.status_code == 409 and group.id in caught.value.body["detail"]
    assert letta.agents.retrieve(manager).multi_agent_group.id == group.id
    # When a participant is deleted
    letta.agents.delete(fred)
    # Then its id stays in agent_ids
    assert letta.groups.retrieve(group.id).agent_ids == [fred, velma]
    # And once the group is gone the manager can go
    letta.groups.delete(group.id)
    assert letta.agents.delete(manager) == {"message": f"Agent id={manager} successfully deleted"}


# --- blocks -------------------------------------------------------------------------------------------------------


def test_block_crud(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    # When a block is created
    block = made.block("human", "username: sarah", limit=6000, description="who", metadata={"k": 1})
    raw = http.get(f"/v1/blocks/{block.id}").json()
    # Then it carries every field the SDK models, with the values sent
    assert set(Block.model_fields) <= set(raw)
    assert block.id.startswith("block-")
    assert (block.label, block.value, block.limit, block.description, block.metadata, block.is_template) == (
        "human",
        "username: sarah",
        6000,
        "who",
        {"k": 1},
        False,
    )
    # And retrieve and list (with the label filter) return it
    assert letta.blocks.retrieve(block.id).model_dump() == block.model_dump()
    assert block.id in [b.id for b in letta.blocks.list(label="human")]
    assert block.id not in [b.id for b in letta.blocks.list(label="persona")]
    # When modified partially
    modified = letta.blocks.modify(block.id, value="username: bob")
    # Then only the value changed
    assert (modified.value, modified.label, modified.limit, modified.description) == ("username: bob", "human", 6000, "who")
    assert letta.blocks.retrieve(block.id).value == "username: bob"
    # When deleted, then the deleted block is returned and it is gone
    assert letta.blocks.delete(block.id).id == block.id
    assert_error(http.get(f"/v1/blocks/{block.id}"), 404, block.id)
    assert_error(http.patch(f"/v1/blocks/{block.id}", json={"value": "x"}), 404, block.id)
    assert_error(http.delete(f"/v1/blocks/{block.id}"), 404, block.id)
    assert block.id not in [b.id for b in letta.blocks.list()]


def test_template_blocks_are_listed_only_on_request(letta: Letta, made: Tracker) -> None:
    template = made.block("persona", "template persona", is_template=True, name=unique("tpl"))
    assert template.id not in [b.id for b in letta.blocks.list()]
    assert template.id in [b.id for b in letta.blocks.list(templates_only=True)]


def test_block_edit_is_seen_by_every_agent_that_has_it(letta: Letta, made: Tracker) -> None:
    # Given a block held by two agents and by a group's shared blocks
    notes = made.block("notes", "v1")
    first, second = made.agent(block_ids=[notes.id]).id, made.agent().id
    made.group([second], "", shared_block_ids=[notes.id])
    # When the block is edited
    letta.blocks.modify(notes.id, value="v2")
    # Then every agent sees the new value
    for agent_id in (first, second):
        assert [b.value for b in letta.agents.retrieve(agent_id).memory.blocks if b.id == notes.id] == ["v2"]


def test_deleting_a_block_detaches_it_from_its_agents(letta: Letta, made: Tracker) -> None:
    """A deleted block leaves no trace on agents, so its label is free again (one block per label)."""
    # Given an agent holding a notes block
    notes = made.block("notes", "old")
    agent = made.agent(block_ids=[notes.id], memory_blocks=[CreateBlock(label="persona", value="p")])
    # When the block is deleted
    letta.blocks.delete(notes.id)
    # Then the agent no longer has it
    assert [b.label for b in letta.agents.retrieve(agent.id).memory.blocks] == ["persona"]
    # And a new block under the same label can be attached, by the agents API and by a group
    fresh = made.block("notes", "new")
    assert "notes" in [
        b.label
        for b in letta.agents.modify(
            agent.id, block_ids=[*(b.id for b in agent.memory.blocks if b.label == "persona"), fresh.id]
        ).memory.blocks
    ]
    newer = made.block("notes", "newer")
    other = made.agent(block_ids=[newer.id])
    letta.blocks.delete(newer.id)
    group = made.group([other.id], "", shared_block_ids=[fresh.id])
    assert [b.id for b in letta.agents.retrieve(other.id).memory.blocks] == [fresh.id]
    assert group.shared_block_ids == [fresh.id]


def test_relabelling_a_block_follows_on_its_agents(letta: Letta, made: Tracker) -> None:
    """One block per label per agent survives a relabel: the agent's label follows, and a clash is a 409."""
    # Given an agent with a persona block and a notes block
    agent = made.agent(memory_blocks=[CreateBlock(label="persona", value="p"), CreateBlock(label="notes", value="n")])
    persona, notes = (next(b for b in agent.memory.blocks if b.label == label) for label in ("persona", "notes"))
    # When notes is relabelled onto persona, the agent would hold two persona blocks
    with pytest.raises(ApiError) as caught:
        letta.blocks.modify(notes.id, label="persona")
    # Then 409 and nothing changed
    assert caught.value.status_code == 409
    assert letta.blocks.retrieve(notes.id).label == "notes"
    # When notes is relabelled to a free label
    letta.blocks.modify(notes.id, label="journal")
    # Then the agent shows the new label, and the old one is free for another block
    assert sorted(b.label for b in letta.agents.retrieve(agent.id).memory.blocks) == ["journal", "persona"]
    extra = made.block("notes", "again")
    relabelled = letta.agents.modify(agent.id, block_ids=[persona.id, notes.id, extra.id])
    assert sorted(b.label for b in relabelled.memory.blocks) == ["journal", "notes", "persona"]
