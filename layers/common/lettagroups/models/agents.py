"""Agent schemas: the part of Letta's `/v1/agents` that groups need (`CreateAgent`, `UpdateAgent`, `AgentState`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .blocks import Block, CreateBlock
from .groups import ID_MAX, Group

AgentType = Literal["memgpt_agent", "split_thread_agent", "sleeptime_agent", "voice_convo_agent", "voice_sleeptime_agent"]
NAME_MAX = 500
SYSTEM_MAX = 100_000
Id = Annotated[str, Field(min_length=1, max_length=ID_MAX)]
Tag = Annotated[str, Field(max_length=NAME_MAX)]


class LLMConfig(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow", protected_namespaces=())

    model: str = Field(max_length=500)
    model_endpoint_type: str = Field(max_length=100)
    model_endpoint: Optional[str] = Field(default=None, max_length=2000)
    provider_name: Optional[str] = None
    model_wrapper: Optional[str] = None
    context_window: int = Field(ge=1)
    put_inner_thoughts_in_kwargs: Optional[bool] = True
    handle: Optional[str] = None
    temperature: float = 0.7
    max_tokens: Optional[int] = 4096
    enable_reasoner: bool = False
    reasoning_effort: Optional[Literal["low", "medium", "high"]] = None
    max_reasoning_tokens: int = 0


class EmbeddingConfig(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow", protected_namespaces=())

    embedding_endpoint_type: str
    embedding_endpoint: Optional[str] = None
    embedding_model: str
    embedding_dim: int
    embedding_chunk_size: Optional[int] = 300
    handle: Optional[str] = None
    azure_endpoint: Optional[str] = None
    azure_version: Optional[str] = None
    azure_deployment: Optional[str] = None


class Tool(BaseModel):
    model_config = ConfigDict(defer_build=True)
    id: str
    tool_type: str = "custom"
    description: Optional[str] = None
    source_type: Optional[str] = "python"
    organization_id: Optional[str] = None
    name: Optional[str] = None
    tags: list[str] = Field(default_factory=list)
    source_code: Optional[str] = None
    json_schema: Optional[dict[str, Any]] = None
    args_json_schema: Optional[dict[str, Any]] = None
    return_char_limit: int = 6000
    created_by_id: Optional[str] = None
    last_updated_by_id: Optional[str] = None
    metadata_: Optional[dict[str, Any]] = None


class Memory(BaseModel):
    model_config = ConfigDict(defer_build=True)
    blocks: list[Block]
    prompt_template: str = ""


class CreateAgent(BaseModel):
    """What letta-client 0.1.138 `agents.create` sends. Fields not used here are accepted and ignored."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    name: Optional[str] = Field(default=None, min_length=1, max_length=NAME_MAX)
    memory_blocks: Optional[list[CreateBlock]] = Field(default=None, max_length=50)
    tools: Optional[list[str]] = Field(default=None, max_length=100)
    tool_ids: Optional[list[Id]] = Field(default=None, max_length=100)
    block_ids: Optional[list[Id]] = Field(default=None, max_length=50)
    tool_rules: Optional[list[dict[str, Any]]] = Field(default=None, max_length=100)
    tags: Optional[list[Tag]] = Field(default=None, max_length=100)
    system: Optional[str] = Field(default=None, max_length=SYSTEM_MAX)
    agent_type: AgentType = "memgpt_agent"
    llm_config: Optional[LLMConfig] = None
    embedding_config: Optional[EmbeddingConfig] = None
    include_base_tools: bool = True
    include_multi_agent_tools: bool = False
    include_base_tool_rules: bool = True
    description: Optional[str] = Field(default=None, max_length=10_000)
    metadata: Optional[dict[str, Any]] = None
    model: Optional[str] = Field(default=None, max_length=500)
    embedding: Optional[str] = Field(default=None, max_length=500)
    context_window_limit: Optional[int] = Field(default=None, ge=1)
    max_tokens: Optional[int] = None
    project_id: Optional[str] = Field(default=None, max_length=500)
    project: Optional[str] = Field(default=None, max_length=500)
    identity_ids: Optional[list[Id]] = Field(default=None, max_length=100)
    message_buffer_autoclear: bool = False
    enable_sleeptime: Optional[bool] = None


class UpdateAgent(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    name: Optional[str] = Field(default=None, min_length=1, max_length=NAME_MAX)
    tool_ids: Optional[list[Id]] = Field(default=None, max_length=100)
    block_ids: Optional[list[Id]] = Field(default=None, max_length=50)
    tags: Optional[list[Tag]] = Field(default=None, max_length=100)
    system: Optional[str] = Field(default=None, max_length=SYSTEM_MAX)
    tool_rules: Optional[list[dict[str, Any]]] = Field(default=None, max_length=100)
    llm_config: Optional[LLMConfig] = None
    embedding_config: Optional[EmbeddingConfig] = None
    description: Optional[str] = Field(default=None, max_length=10_000)
    metadata: Optional[dict[str, Any]] = None
    project_id: Optional[str] = Field(default=None, max_length=500)
    message_buffer_autoclear: Optional[bool] = None
    model: Optional[str] = Field(default=None, max_length=500)
    embedding: Optional[str] = Field(default=None, max_length=500)
    enable_sleeptime: Optional[bool] = None


class AgentState(BaseModel):
    model_config = ConfigDict(defer_build=True)
    created_by_id: Optional[str] = None
    last_updated_by_id: Optional[str] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    id: str
    name: str
    tool_rules: Optional[list[dict[str, Any]]] = None
    message_ids: Optional[list[str]] = None
    system: str
    agent_type: str
    llm_config: LLMConfig
    embedding_config: EmbeddingConfig
    response_format: Optional[dict[str, Any]] = None
    organization_id: Optional[str] = None
    description: Optional[str] = None
    metadata: Optional[dict[str, Any]] = None
    memory: Memory
    tools: list[Tool]
    sources: list[Any] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    tool_exec_environment_variables: list[Any] = Field(default_factory=list)
    project_id: Optional[str] = None
    template_id: Optional[str] = None
    base_template_id: Optional[str] = None
    identity_ids: list[str] = Field(default_factory=list)
    message_buffer_autoclear: bool = False
    enable_sleeptime: Optional[bool] = None
    multi_agent_group: Optional[Group] = None


class AgentDeleted(BaseModel):
    model_config = ConfigDict(defer_build=True)
    message: str
