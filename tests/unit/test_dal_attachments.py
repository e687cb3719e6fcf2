"""Block back-references (dal/attachments.py) against moto: every write that changes which blocks an agent holds
keeps "the agents holding a block" answerable with one Query.

Each test works in its own organization (the `actor` fixture).
"""

from __future__ import annotations

import pytest

from lettagroups.dal import agents as agents_dal
from lettagroups.dal import attachments as attachments_dal
from lettagroups.dal.items import ConditionFailed, put_action
from lettagroups.ids import new_id
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import blocks as blocks_logic
from lettagroups.logic import groups as groups_logic
from lettagroups.models.agents import CreateAgent, UpdateAgent
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.groups import MAX_GROUP_AGENTS, DynamicManager, GroupCreate
from lettagroups.models.identity import Actor
from lettagroups.orchestration.policies.dynamic import attach_participant_personas
from lettagroups.orchestration.state import RunState


def referenced(actor: Actor, block_id: str) -> list[str]:
    return list(attachments_dal.iter_agent_ids(actor.organization_id, block_id))


def block(actor: Actor, label: str) -> str:
    return blocks_logic.create_block(actor, CreateBlock(label=label, value="v")).id


def agent(actor: Actor, name: str, **fields: object) -> dict:
    state = agents_logic.create_agent(actor, CreateAgent(name=name, **fields))  # type: ignore[arg-type]
    return state.model_dump()


def test_a_write_that_fits_one_transaction_is_all_or_nothing_with_its_back_references(actor: Actor):
    org = actor.organization_id
    target = block(actor, "notes")
    existing = {"PK": f"ORG#{org}", "SK": "TEST#x", "entity": "test"}
    attachments_dal.transact_with(org, [put_action(existing)])
    # When a write whose own action fails carries back-references
    with pytest.raises(ConditionFailed):
        attachments_dal.transact_with(org, [put_action(existing)], attached=[("agent-x", target)])
    # Then none of them was written
    assert referenced(actor, target) == []


def test_a_write_too_big_for_one_transaction_writes_back_references_first(actor: Actor):
    org = actor.organization_id
    target = block(actor, "notes")
    pairs = [(new_id("agent"), target) for _ in range(150)]
    # When the back-references of 150 attachments go with one action
    attachments_dal.transact_with(org, [put_action({"PK": f"ORG#{org}", "SK": "TEST#y", "entity": "test"})], attached=pairs)
    # Then every one is there, in agent creation order
    assert referenced(actor, target) == sorted(a for a, _ in pairs)
    # And removing them in a big write deletes them after the write
    attachments_dal.transact_with(org, [put_action({"PK": f"ORG#{org}", "SK": "TEST#z", "entity": "test"})], detached=pairs)
    assert referenced(actor, target) == []


def test_agent_create_modify_and_delete_keep_back_references(actor: Actor):
    # Given a standalone block, and an agent created with it and two new memory blocks
    notes = block(actor, "notes")
    fred = agent(actor, "fred", block_ids=[notes], memory_blocks=[CreateBlock(label="persona", value="p")])
    persona = next(b["id"] for b in fred["memory"]["blocks"] if b["label"] == "persona")
    # Then every block it holds names it
    assert referenced(actor, notes) == [fred["id"]] and referenced(actor, persona) == [fred["id"]]
    # When the agent's block_ids are replaced (notes dropped)
    agents_logic.modify_agent(actor, fred["id"], UpdateAgent(block_ids=[persona]))
    # Then notes no longer names it
    assert referenced(actor, notes) == [] and referenced(actor, persona) == [fred["id"]]
    # When the agent is deleted, then no back-reference names it
    agents_logic.delete_agent(actor, fred["id"])
    assert referenced(actor, persona) == []


def test_group_shared_blocks_name_every_participant_and_the_manager_even_past_one_transaction(actor: Actor):
    # Given the largest group: 32 participants and a manager, sharing four blocks (over 100 back-references)
    participants = [agent(actor, f"p{i}")["id"] for i in range(MAX_GROUP_AGENTS)]
    manager = agent(actor, "boss")["id"]
    shared = [block(actor, f"shared-{i}") for i in range(4)]
    config = DynamicManager(manager_agent_id=manager)
    groups_logic.create_group(
        actor, GroupCreate(agent_ids=participants, description="", manager_config=config, shared_block_ids=shared)
    )
    # Then each shared block names all 33 agents
    for block_id in shared:
        assert referenced(actor, block_id) == sorted([*participants, manager])


def test_dynamic_persona_blocks_created_during_a_run_name_the_manager(actor: Actor):
    # Given a dynamic group
    fred, velma = agent(actor, "fred")["id"], agent(actor, "velma")["id"]
    manager = agent(actor, "boss")["id"]
    group = groups_logic.create_group(
        actor, GroupCreate(agent_ids=[fred, velma], description="", manager_config=DynamicManager(manager_agent_id=manager))
    )
    # When the run gives the manager a block per participant (created and attached in one write)
    state = RunState(
        org_id=actor.organization_id,
        user_id=actor.user_id,
        run_id=new_id("run"),
        conversation_id=group.id,
        group_id=group.id,
        manager_type="dynamic",
        agent_ids=[fred, velma],
        manager_agent_id=manager,
    )
    attach_participant_personas(state)
    # Then each of those blocks names the manager
    labels = agents_dal.get_agent(actor.organization_id, manager).block_labels  # type: ignore[union-attr]
    assert referenced(actor, labels[fred]) == [manager] and referenced(actor, labels[velma]) == [manager]


def test_sleeptime_agents_share_the_main_agents_blocks(actor: Actor):
    # When an agent is created with enable_sleeptime
    main = agent(actor, "main", memory_blocks=[CreateBlock(label="human", value="h")], enable_sleeptime=True)
    sleeper = main["multi_agent_group"]["agent_ids"][0]
    human = next(b["id"] for b in main["memory"]["blocks"] if b["label"] == "human")
    # Then the human block names both agents
    assert referenced(actor, human) == sorted([main["id"], sleeper])
    # And deleting the main agent (which takes the sleeptime agent along) clears them
    agents_logic.delete_agent(actor, main["id"])
    assert referenced(actor, human) == []
