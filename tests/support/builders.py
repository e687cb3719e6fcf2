"""Builders of agents, blocks, groups and requests through the logic layer (in-process tests: unit, handler,
workflow, packaged), and the send that uses them."""

from __future__ import annotations

from typing import Any

from lettagroups.logic import agents as agents_logic
from lettagroups.logic import blocks as blocks_logic
from lettagroups.logic import group_messages
from lettagroups.logic import groups as groups_logic
from lettagroups.logic.llm_configs import offline_llm_config
from lettagroups.models.agents import AgentState, CreateAgent, LLMConfig
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.groups import GroupCreate
from lettagroups.models.identity import Actor
from lettagroups.models.messages import LettaRequest, LettaResponse

NAMES = ["fred", "velma", "daphne", "shaggy"]


def offline_model(faults: str = "") -> LLMConfig:
    """The built-in offline model, with optional fault injection (see agent/providers/offline_faults.py)."""
    config = offline_llm_config()
    if faults:
        config.model = f"letta-offline?{faults}"
    return config


def make_agent_state(actor: Actor, name: str, persona: str | None = None, human: str | None = "", **extra: Any) -> AgentState:
    """An agent whose persona block says "I am <name>." (or `persona`), with a `human` block unless `human` is None."""
    blocks = [CreateBlock(label="persona", value=persona or f"I am {name}.")]
    if human is not None:
        blocks.append(CreateBlock(label="human", value=human))
    return agents_logic.create_agent(actor, CreateAgent(name=name, memory_blocks=blocks, **extra))


def make_agent(actor: Actor, name: str, persona: str | None = None, human: str | None = "", **extra: Any) -> str:
    """`make_agent_state`'s agent id."""
    return make_agent_state(actor, name, persona, human, **extra).id


def make_block(actor: Actor, label: str = "human", value: str = "likes mysteries") -> str:
    return blocks_logic.create_block(actor, CreateBlock(label=label, value=value)).id


def make_group(
    actor: Actor,
    agent_ids: list[str] | None = None,
    manager_config: Any = None,
    description: str = "test group",
    **fields: Any,
) -> str:
    """A group of `agent_ids` (none by default); `manager_config` as a dict or a manager model."""
    body: dict[str, Any] = {"agent_ids": agent_ids or [], "description": description, **fields}
    if manager_config:
        body["manager_config"] = manager_config
    return groups_logic.create_group(actor, GroupCreate.model_validate(body)).id


def request(text: str, role: str = "user") -> LettaRequest:
    return LettaRequest.model_validate({"messages": [{"role": role, "content": text}]})


def send(actor: Actor, group_id: str, text: str) -> LettaResponse:
    return group_messages.send_message(actor, group_id, request(text))
