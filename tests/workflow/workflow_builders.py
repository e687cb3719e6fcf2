"""Builders shared by the workflow tests."""

from __future__ import annotations

from lettagroups.logic import agents as agents_logic
from lettagroups.logic import groups as groups_logic
from lettagroups.models.agents import CreateAgent
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.groups import GroupCreate
from lettagroups.models.identity import Actor


def make_agent(actor: Actor, name: str, persona: str | None = None, **extra: object) -> str:
    blocks = [CreateBlock(label="persona", value=persona or f"I am {name}."), CreateBlock(label="human", value="")]
    return agents_logic.create_agent(actor, CreateAgent(name=name, memory_blocks=blocks, **extra)).id  # type: ignore[arg-type]


def make_group(actor: Actor, agent_ids: list[str], manager_config: dict | None = None, description: str = "test group") -> str:
    body: dict = {"agent_ids": agent_ids, "description": description}
    if manager_config:
        body["manager_config"] = manager_config
    return groups_logic.create_group(actor, GroupCreate.model_validate(body)).id
