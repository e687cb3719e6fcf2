"""Agent and block records at the data-access boundary, against moto: what an item becomes when read, and what a
record becomes when written (models/stored_entities.py). Groups: tests/unit/test_dal_groups.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lettagroups.dal import agents as agents_dal
from lettagroups.dal import keys, table
from lettagroups.ids import new_id
from lettagroups.models.identity import Actor
from lettagroups.models.stored_entities import AgentRecord, BlockRecord


def raw(pk: str, sk: str) -> dict[str, Any]:
    response = table.client().get_item(TableName=table.table_name(), Key=table.key(pk, sk), ConsistentRead=True)
    return response["Item"]


def agent_record(org: str, **fields: Any) -> AgentRecord:
    return AgentRecord.model_validate(
        {
            "id": new_id("agent"),
            "name": "fred",
            "system": "You are Fred.",
            "agent_type": "memgpt_agent",
            "llm_config": {"model": "letta-offline", "context_window": 16384, "temperature": 0.7, "model_endpoint": None},
            "embedding_config": {"embedding_model": "e", "embedding_dim": 1536},
            "block_ids": [],
            "block_labels": {},
            "organization_id": org,
            **fields,
        }
    )


def block_record(org: str, **fields: Any) -> BlockRecord:
    return BlockRecord.model_validate({"id": new_id("block"), "label": "human", "value": "Ana", "organization_id": org, **fields})


def test_an_agent_round_trips_every_field_without_decimals(actor: Actor):
    org = actor.organization_id
    # Given an agent with every field of the record set
    fields = {
        "tool_rules": [{"type": "exit_loop", "tool_name": "send_message"}],
        "tool_names": ["send_message"],
        "description": "a mechanic",
        "metadata": {"k": None, "n": 1},
        "tags": ["t"],
        "project_id": "p1",
        "identity_ids": ["identity-1"],
        "message_buffer_autoclear": True,
        "enable_sleeptime": False,
        "created_by_id": "user-1",
        "last_updated_by_id": "user-2",
        "created_at": "2025-01-01T00:00:00+00:00",
        "updated_at": "2025-01-02T00:00:00+00:00",
        "block_ids": ["block-1"],
        "block_labels": {"human": "block-1"},
        "managed_group_ids": {"group-1"},
    }
    agent = agent_record(org, **fields)
    assert set(AgentRecord.model_fields) == {
        "id",
        "name",
        "system",
        "agent_type",
        "llm_config",
        "embedding_config",
        "organization_id",
        "version",
        *fields,
    }
    # When it is written and read back
    agents_dal.create_agent(org, agent, [])
    stored = agents_dal.get_agent(org, agent.id)
    # Then it is the same record, at version 0; numbers inside its configuration are ints and floats, not Decimals,
    # and nested nulls are kept (the API shows the configuration as it was given)
    assert stored == agent
    assert stored.version == 0
    assert stored.llm_config == {"model": "letta-offline", "context_window": 16384, "temperature": 0.7, "model_endpoint": None}
    assert type(stored.llm_config["context_window"]) is int and type(stored.llm_config["temperature"]) is float
    assert not any(isinstance(v, Decimal) for v in [*stored.llm_config.values(), *stored.embedding_config.values()])
    # And the groups it manages are a string set in the item (group writes ADD and DELETE ids in place)
    assert raw(keys.org_pk(org), keys.agent_sk(agent.id))["managed_group_ids"] == {"SS": ["group-1"]}


def test_an_agent_that_manages_no_group_has_no_managed_group_ids_attribute(actor: Actor):
    org = actor.organization_id
    # Given an agent that manages nothing, read and written back whole
    agent = agent_record(org)
    agents_dal.create_agent(org, agent, [])
    read = agents_dal.get_agent(org, agent.id)
    assert read is not None and read.managed_group_ids == set()
    agents_dal.replace_agent(org, read.model_copy(update={"name": "frederick"}), read.version)
    # Then no empty set was stored (DynamoDB refuses one), and the record reads back with an empty set
    assert "managed_group_ids" not in raw(keys.org_pk(org), keys.agent_sk(agent.id))
    again = agents_dal.get_agent(org, agent.id)
    assert again is not None and (again.name, again.version, again.managed_group_ids) == ("frederick", 1, set())


def test_attributes_a_record_does_not_know_survive_a_whole_item_write(actor: Actor):
    org = actor.organization_id
    # Given an agent and a block whose items hold an attribute this code does not know (another version wrote it)
    agent, block = agent_record(org), block_record(org)
    agents_dal.create_agent(org, agent, [block])
    for sk in (keys.agent_sk(agent.id), keys.block_sk(block.id)):
        item = table.deserialize(raw(keys.org_pk(org), sk))
        table.client().put_item(TableName=table.table_name(), Item=table.serialize({**item, "from_the_future": 7}))
    # When both are read, changed and written back whole
    read_agent, read_block = agents_dal.get_agent(org, agent.id), agents_dal.get_block(org, block.id)
    assert read_agent is not None and read_block is not None
    agents_dal.replace_agent(org, read_agent.model_copy(update={"name": "frederick"}), read_agent.version)
    agents_dal.replace_block(org, read_block.model_copy(update={"value": "Ana Lima"}), read_block.version)
    # Then the items keep it, as they kept every attribute before records existed
    assert raw(keys.org_pk(org), keys.agent_sk(agent.id))["from_the_future"] == {"N": "7"}
    assert raw(keys.org_pk(org), keys.block_sk(block.id))["from_the_future"] == {"N": "7"}
    # And the API shape built from the record does not show it
    assert "from_the_future" not in read_block.to_block().model_dump()


def test_a_write_adds_no_attribute_the_record_merely_defaults(actor: Actor):
    org = actor.organization_id
    # Given a block created with `metadata: null` (None is not stored: the item has no metadata)
    block = block_record(org, metadata=None)
    agents_dal.create_block(org, block)
    assert "metadata" not in raw(keys.org_pk(org), keys.block_sk(block.id))
    # When it is read (its metadata reads as {}, Block's default) and its value replaced
    read = agents_dal.get_block(org, block.id)
    assert read is not None and read.metadata == {}
    agents_dal.replace_block(org, read.model_copy(update={"value": "Ana Lima"}), read.version)
    # Then the item changed its value and version, and gained nothing else
    item = table.deserialize(raw(keys.org_pk(org), keys.block_sk(block.id)))
    assert (item["value"], item["version"]) == ("Ana Lima", 1)
    assert "metadata" not in item


def test_a_block_round_trips_every_field(actor: Actor):
    org = actor.organization_id
    fields = {
        "limit": 100,
        "name": "the human",
        "is_template": True,
        "description": "who we talk to",
        "metadata": {"source": "test"},
        "created_by_id": "user-1",
        "last_updated_by_id": "user-2",
        "created_at": "2025-01-01T00:00:00+00:00",
    }
    block = block_record(org, **fields)
    assert set(BlockRecord.model_fields) == {"id", "label", "value", "organization_id", "version", *fields}
    agents_dal.create_block(org, block)
    stored = agents_dal.get_block(org, block.id)
    assert stored == block
    assert type(stored.limit) is int and type(stored.version) is int
