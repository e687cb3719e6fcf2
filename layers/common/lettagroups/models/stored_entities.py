"""Stored records of groups, agents and blocks: what the data-access layer persists for them (typed, not dicts).

The dal converts at its boundary: an item becomes a record once, when it is read (its key attributes `PK`, `SK`,
`GSI*`, `entity` stay in the dal), and a record becomes an item when it is written whole. Logic, orchestration and
agent code read attributes. The API shapes (`Group`, `Block`; `AgentState` needs the tool catalog and is built in
logic/agents.py) are built from these records in one place each.

Unknown attributes (`extra`), decided per record by how it is written:
- a group item is always rebuilt from every field of the record (None is not stored), so attributes it does not
  know were never carried forward: `ignore`;
- agent and block items are read, changed and put back whole, and have always been put back with every attribute
  they held: `allow` keeps it so (an attribute written by another version of the code survives a write by this
  one). Such an item is written with the fields its record was read or built with and those set on it since
  (`exclude_unset`), never with values the record merely defaults, so a write adds nothing it did not change.
Changing a record: copy it (`model_copy`) and assign attributes (or `model_copy(update=...)`); never change a list or
dict it holds in place, since copies share them.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .blocks import Block
from .groups import Group

ManagerTypeName = Literal["round_robin", "supervisor", "dynamic", "sleeptime", "voice_sleeptime", "swarm"]


class GroupRecord(BaseModel):
    """One group: its participants, its manager configuration (the fields of its type, contract §4.4) and the
    bookkeeping its runs keep on it. `version` is the optimistic lock every write of the group checks."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    id: str
    manager_type: ManagerTypeName
    agent_ids: list[str] = Field(default_factory=list)
    description: str = ""
    shared_block_ids: list[str] = Field(default_factory=list)
    project_id: Optional[str] = None
    hidden: bool = False  # groups stored before `hidden` existed are visible
    organization_id: Optional[str] = None
    # manager configuration (the fields of its manager type; None for the others)
    manager_agent_id: Optional[str] = None  # supervisor, dynamic, sleeptime, voice_sleeptime
    termination_token: Optional[str] = None  # dynamic
    max_turns: Optional[int] = None  # round_robin, dynamic, swarm
    sleeptime_agent_frequency: Optional[int] = None  # sleeptime
    max_message_buffer_length: Optional[int] = None  # voice_sleeptime
    min_message_buffer_length: Optional[int] = None  # voice_sleeptime
    initial_agent_id: Optional[str] = None  # swarm: who receives the first input (None: agent_ids[0])
    # run bookkeeping
    turns_counter: Optional[int] = None  # sleeptime: the main agent's turns since the last background pass (-1: none)
    last_processed_message_id: Optional[str] = None  # sleeptime: the last message a background pass was given
    context_after_message_id: Optional[str] = None  # voice_sleeptime: where the voice agent's trimmed context starts
    active_agent_id: Optional[str] = None  # swarm: who the last completed step left the conversation with
    version: int = 0

    def swarm_next_agent(self) -> Optional[str]:
        """Who receives a swarm group's next input (swarm-handoffs.md): the active agent, else the initial agent, else
        `agent_ids[0]`. A stored choice that is no longer a participant (the list was modified) is passed over."""
        for candidate in (self.active_agent_id, self.initial_agent_id):
            if candidate and candidate in self.agent_ids:
                return candidate
        return self.agent_ids[0] if self.agent_ids else None

    def to_group(self) -> Group:
        """The API shape (contract §3.4); a swarm's `active_agent_id` is who receives its next input."""
        return Group.model_validate(
            {
                "id": self.id,
                "manager_type": self.manager_type,
                "agent_ids": self.agent_ids,
                "description": self.description,
                "shared_block_ids": self.shared_block_ids,
                "manager_agent_id": self.manager_agent_id,
                "termination_token": self.termination_token,
                "max_turns": self.max_turns,
                "sleeptime_agent_frequency": self.sleeptime_agent_frequency,
                "turns_counter": self.turns_counter,
                "last_processed_message_id": self.last_processed_message_id,
                "max_message_buffer_length": self.max_message_buffer_length,
                "min_message_buffer_length": self.min_message_buffer_length,
                "project_id": self.project_id,
                "hidden": self.hidden,
                "initial_agent_id": self.initial_agent_id,
                "active_agent_id": self.swarm_next_agent() if self.manager_type == "swarm" else self.active_agent_id,
            }
        )


class AgentRecord(BaseModel):
    """One agent: its configuration as created or last modified, the blocks it holds and the groups it manages.

    `llm_config` and `embedding_config` are stored as the API's LLMConfig and EmbeddingConfig dumped at write time:
    the model provider reads the first as its configuration (providers take a mapping), and the API validates both
    when it shows the agent."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    id: str
    name: str
    system: str
    agent_type: str
    llm_config: dict[str, Any]
    embedding_config: dict[str, Any]
    tool_rules: Optional[list[dict[str, Any]]] = None
    tool_names: list[str] = Field(default_factory=list)  # catalog tools it is offered (agent/catalog.py)
    description: Optional[str] = None
    metadata: Optional[dict[str, Any]] = None
    tags: list[str] = Field(default_factory=list)
    project_id: Optional[str] = None
    identity_ids: list[str] = Field(default_factory=list)
    message_buffer_autoclear: bool = False
    enable_sleeptime: Optional[bool] = None
    organization_id: Optional[str] = None
    created_by_id: Optional[str] = None
    last_updated_by_id: Optional[str] = None
    created_at: Optional[str] = None  # ISO 8601
    updated_at: Optional[str] = None
    block_ids: list[str] = Field(default_factory=list)  # the blocks it holds, in its memory's order
    block_labels: dict[str, str] = Field(default_factory=dict)  # label -> block id: one block per label
    # The groups it manages: a string set, so that group writes ADD and DELETE ids in place. An empty set is not
    # stored (DynamoDB has none): the attribute is then absent.
    managed_group_ids: set[str] = Field(default_factory=set)
    version: int = 0


class BlockRecord(BaseModel):
    """One memory block. `version` guards every replacement (a step's memory edits, a PATCH, a relabel)."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    id: str
    label: str
    value: str
    limit: int = 5000
    name: Optional[str] = None
    is_template: bool = False
    description: Optional[str] = None
    # Absent when created with `metadata: null` (None is never stored): read back as {} (Block's default).
    metadata: Optional[dict[str, Any]] = Field(default_factory=dict)
    organization_id: Optional[str] = None
    created_by_id: Optional[str] = None
    last_updated_by_id: Optional[str] = None
    created_at: Optional[str] = None  # ISO 8601
    version: int = 0

    def to_block(self) -> Block:
        """The API shape (Letta's `Block`)."""
        return Block.model_validate(
            {
                "value": self.value,
                "limit": self.limit,
                "name": self.name,
                "is_template": self.is_template,
                "label": self.label,
                "description": self.description,
                "metadata": self.metadata,
                "id": self.id,
                "organization_id": self.organization_id,
                "created_by_id": self.created_by_id,
                "last_updated_by_id": self.last_updated_by_id,
            }
        )
