"""Group schemas of the contract (§3.1-§3.4)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

ID_MAX = 200
DESCRIPTION_MAX = 100_000
PROJECT_MAX = 500
# A group write is one DynamoDB transaction (<= 100 actions): a modify that replaces every
# participant needs about 3 actions per agent, so 32 keeps the worst case inside the limit.
MAX_GROUP_AGENTS = 32


class ManagerType(str, Enum):
    round_robin = "round_robin"
    supervisor = "supervisor"
    dynamic = "dynamic"
    sleeptime = "sleeptime"
    voice_sleeptime = "voice_sleeptime"
    swarm = "swarm"


def is_storable_id(value: str) -> bool:
    """Longer ids cannot name anything (storage keys are capped at 1 KB), so they are simply not found."""
    return len(value) <= ID_MAX


# `order` of later Letta's lists: creation time ascending or descending; cursors are relative to it.
ListOrder = Literal["asc", "desc"]

AgentId = Annotated[str, Field(min_length=1, max_length=ID_MAX)]
AgentIdList = Annotated[list[AgentId], Field(max_length=MAX_GROUP_AGENTS)]
BlockIdList = Annotated[list[AgentId], Field(max_length=MAX_GROUP_AGENTS)]


class _Request(BaseModel):
    # Request models ignore unknown keys (contract §2.5).
    model_config = ConfigDict(defer_build=True, extra="ignore")


class RoundRobinManager(_Request):
    manager_type: Literal["round_robin"] = "round_robin"
    max_turns: Optional[int] = None


class SupervisorManager(_Request):
    manager_type: Literal["supervisor"] = "supervisor"
    manager_agent_id: AgentId


class DynamicManager(_Request):
    manager_type: Literal["dynamic"] = "dynamic"
    manager_agent_id: AgentId
    termination_token: Optional[str] = Field(default="DONE!", max_length=1000)
    max_turns: Optional[int] = None


class SleeptimeManager(_Request):
    manager_type: Literal["sleeptime"] = "sleeptime"
    manager_agent_id: AgentId
    sleeptime_agent_frequency: Optional[int] = None


class VoiceSleeptimeManager(_Request):
    manager_type: Literal["voice_sleeptime"] = "voice_sleeptime"
    manager_agent_id: AgentId
    max_message_buffer_length: Optional[int] = None
    min_message_buffer_length: Optional[int] = None


class SwarmManager(_Request):
    """Agents that hand the conversation to each other (swarm-handoffs.md): `max_turns` agent turns per request at
    most (null: 10), `initial_agent_id` receives the first input (null: `agent_ids[0]`)."""

    manager_type: Literal["swarm"] = "swarm"
    max_turns: Optional[int] = None
    initial_agent_id: Optional[AgentId] = None


ManagerConfig = Annotated[
    Union[RoundRobinManager, SupervisorManager, DynamicManager, SleeptimeManager, VoiceSleeptimeManager, SwarmManager],
    Field(discriminator="manager_type"),
]


class RoundRobinManagerUpdate(_Request):
    manager_type: Literal["round_robin"] = "round_robin"
    max_turns: Optional[int] = None


class SupervisorManagerUpdate(_Request):
    manager_type: Literal["supervisor"] = "supervisor"
    # The key is required even though its value may be null (as 0.7.7's `Field(...)`).
    manager_agent_id: Optional[AgentId] = Field(...)


class DynamicManagerUpdate(_Request):
    manager_type: Literal["dynamic"] = "dynamic"
    manager_agent_id: Optional[AgentId] = None
    termination_token: Optional[str] = Field(default=None, max_length=1000)
    max_turns: Optional[int] = None


class SleeptimeManagerUpdate(_Request):
    manager_type: Literal["sleeptime"] = "sleeptime"
    manager_agent_id: Optional[AgentId] = None
    sleeptime_agent_frequency: Optional[int] = None


class VoiceSleeptimeManagerUpdate(_Request):
    manager_type: Literal["voice_sleeptime"] = "voice_sleeptime"
    manager_agent_id: Optional[AgentId] = None
    max_message_buffer_length: Optional[int] = None
    min_message_buffer_length: Optional[int] = None


class SwarmManagerUpdate(_Request):
    manager_type: Literal["swarm"] = "swarm"
    max_turns: Optional[int] = None
    initial_agent_id: Optional[AgentId] = None


ManagerConfigUpdate = Annotated[
    Union[
        RoundRobinManagerUpdate,
        SupervisorManagerUpdate,
        DynamicManagerUpdate,
        SleeptimeManagerUpdate,
        VoiceSleeptimeManagerUpdate,
        SwarmManagerUpdate,
    ],
    Field(discriminator="manager_type"),
]


class GroupCreate(_Request):
    agent_ids: AgentIdList
    description: str = Field(max_length=DESCRIPTION_MAX)
    manager_config: ManagerConfig = Field(default_factory=RoundRobinManager)
    shared_block_ids: BlockIdList = Field(default_factory=list)
    # Later Letta's additions (letta-client 1.x sends them in the body): the project (wins over `X-Project`)
    # and `hidden`, which keeps the group out of lists unless `show_hidden_groups` asks for it.
    project_id: Optional[str] = Field(default=None, max_length=PROJECT_MAX)
    hidden: Optional[bool] = None


class GroupUpdate(_Request):
    agent_ids: Optional[AgentIdList] = None
    description: Optional[str] = Field(default=None, max_length=DESCRIPTION_MAX)
    manager_config: Optional[ManagerConfigUpdate] = None
    shared_block_ids: Optional[BlockIdList] = None
    project_id: Optional[str] = Field(default=None, max_length=PROJECT_MAX)


class Group(BaseModel):
    """The API representation; field order is the wire order (contract §2.5)."""

    model_config = ConfigDict(defer_build=True)

    id: str
    manager_type: ManagerType
    agent_ids: list[str]
    description: str
    shared_block_ids: list[str] = Field(default_factory=list)
    manager_agent_id: Optional[str] = None
    termination_token: Optional[str] = None
    max_turns: Optional[int] = None
    sleeptime_agent_frequency: Optional[int] = None
    turns_counter: Optional[int] = None
    last_processed_message_id: Optional[str] = None
    max_message_buffer_length: Optional[int] = None
    min_message_buffer_length: Optional[int] = None
    project_id: Optional[str] = None
    # Appended after the contract's fields (additive: letta-client 0.1.138 keeps unknown fields).
    hidden: bool = False
    # swarm (swarm-handoffs.md): who receives the first input as configured (null: agent_ids[0]), and who will
    # receive the next one; null for every other manager type.
    initial_agent_id: Optional[str] = None
    active_agent_id: Optional[str] = None


class GroupDeleted(BaseModel):
    model_config = ConfigDict(defer_build=True)
    message: str
