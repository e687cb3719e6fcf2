"""The one interface every model provider implements, and the provider-neutral request/response types.

Messages are passed in OpenAI chat format (the lingua franca: `role` system|user|assistant|tool, `content`,
`name`, `tool_calls`, `tool_call_id`); providers with other wire formats (Bedrock Converse) convert them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Protocol, Union

ToolChoice = Union[Literal["auto", "required", "none"], dict[str, str]]  # {"name": <tool>} forces one tool


@dataclass
class ChatRequest:
    model: str
    system: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)  # function schemas {name, description, parameters}
    tool_choice: ToolChoice = "auto"
    max_tokens: Optional[int] = None
    temperature: Optional[float] = None
    timeout_s: float = 120.0  # for the whole call, streaming included
    llm_config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)  # agent_id, agent_name: for the offline model and logs


@dataclass
class ToolCallOut:
    id: str
    name: str
    arguments: str  # JSON text, as the model produced it (may be malformed: the step validates)


@dataclass
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class ChatResponse:
    text: Optional[str] = None  # plain content: inner monologue for Letta-style agents
    reasoning: Optional[str] = None  # native reasoning (reasoner models)
    reasoning_signature: Optional[str] = None
    redacted_reasoning: Optional[str] = None
    tool_calls: list[ToolCallOut] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    finish_reason: Optional[str] = None


@dataclass
class ProviderDelta:
    """One increment of a streamed answer.

    kind: `text` (content), `reasoning` (native reasoning), `tool_call` (name and/or arguments fragment of the
    `index`-th call; `call_id`/`name` appear on its first delta).
    """

    kind: Literal["text", "reasoning", "tool_call"]
    text: str = ""
    index: int = 0
    call_id: Optional[str] = None
    name: Optional[str] = None
    arguments: str = ""


DeltaCallback = Callable[[ProviderDelta], None]


class ModelProvider(Protocol):
    name: str
    # Whether inner thoughts travel as an `inner_thoughts` argument of every tool (Letta's OpenAI convention).
    inner_thoughts_in_kwargs: bool
    supports_token_streaming: bool

    def complete(self, request: ChatRequest, on_delta: Optional[DeltaCallback] = None) -> ChatResponse:
        """One model call. With `on_delta` (and streaming support) deltas are reported as they arrive.
        Raises `providers.errors.ModelError` subclasses only."""
        ...


def estimate_tokens(value: Any) -> int:
    """Deterministic rough token count (~4 characters per token), for budgets and offline usage."""
    if value is None:
        return 0
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return int(math.ceil(len(text) / 4))


class ToolCallAccumulator:
    """Rebuilds complete tool calls from streamed fragments keyed by index."""

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, str]] = {}

    def add(self, index: int, call_id: Optional[str], name: Optional[str], arguments: Optional[str]) -> None:
        call = self.calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        if call_id:
            call["id"] = call_id
        if name:
            # Most servers send the whole name once; some repeat it on every delta, a few send fragments.
            current = call["name"]
            call["name"] = name if not current or name.startswith(current) else current + name
        if arguments:
            call["arguments"] += arguments

    def result(self) -> list[ToolCallOut]:
        return [ToolCallOut(id=c["id"], name=c["name"], arguments=c["arguments"]) for _, c in sorted(self.calls.items())]
