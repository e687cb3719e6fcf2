"""Message schemas: inputs (`MessageCreate`, `LettaRequest`), outputs (`LettaMessage` family,
`LettaResponse`, `LettaUsageStatistics`) and the modify-message body (contract §3.5-§3.9)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

TEXT_MAX = 100_000
MAX_INPUT_MESSAGES = 50


class TextContent(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")
    type: Literal["text"] = "text"
    text: str = Field(max_length=TEXT_MAX)


class ToolCallContent(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")
    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    input: dict[str, Any]


class ToolReturnContent(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")
    type: Literal["tool_return"] = "tool_return"
    tool_call_id: str
    content: str = Field(max_length=TEXT_MAX)
    is_error: bool


class ReasoningContent(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")
    type: Literal["reasoning"] = "reasoning"
    is_native: bool
    reasoning: str = Field(max_length=TEXT_MAX)
    signature: Optional[str] = None


class RedactedReasoningContent(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")
    type: Literal["redacted_reasoning"] = "redacted_reasoning"
    data: str = Field(max_length=TEXT_MAX)


class OmittedReasoningContent(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")
    type: Literal["omitted_reasoning"] = "omitted_reasoning"


MessageContentPart = Annotated[
    Union[TextContent, ToolCallContent, ToolReturnContent, ReasoningContent, RedactedReasoningContent, OmittedReasoningContent],
    Field(discriminator="type"),
]


class MessageCreate(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    role: Literal["user", "system", "assistant"]
    content: Union[Annotated[str, Field(max_length=TEXT_MAX)], Annotated[list[MessageContentPart], Field(max_length=50)]]
    name: Optional[str] = Field(default=None, max_length=500)
    otid: Optional[str] = Field(default=None, max_length=200)
    sender_id: Optional[str] = Field(default=None, max_length=200)
    batch_item_id: Optional[str] = Field(default=None, max_length=200)
    group_id: Optional[str] = Field(default=None, max_length=200)


class LettaRequest(BaseModel):
    """A send. Later Letta's additions are accepted too: `input` (one user message: a string or content parts),
    `include_return_message_types` (only these message types are returned and streamed) and `max_steps` (model calls
    per agent step)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    messages: list[MessageCreate] = Field(max_length=MAX_INPUT_MESSAGES)
    use_assistant_message: bool = True
    assistant_message_tool_name: str = Field(default="send_message", max_length=200)
    assistant_message_tool_kwarg: str = Field(default="message", max_length=200)
    include_return_message_types: Optional[list[Annotated[str, Field(max_length=100)]]] = Field(default=None, max_length=50)
    max_steps: Optional[int] = Field(default=None, ge=1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _input_shorthand(cls, data: Any) -> Any:
        """`input` is syntactic sugar for `messages=[{"role": "user", "content": input}]`."""
        if isinstance(data, dict) and data.get("input") is not None:
            if data.get("messages") is not None:
                raise ValueError("Send either 'messages' or 'input', not both")
            data = {**data, "messages": [{"role": "user", "content": data["input"]}]}
        return data


class LettaStreamingRequest(LettaRequest):
    stream_tokens: bool = False


class LettaAsyncRequest(LettaRequest):
    callback_url: Optional[str] = Field(default=None, max_length=2000)


def format_date(value: datetime) -> str:
    """UTC, second precision, explicit offset (contract §2.5)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


class LettaMessageBase(BaseModel):
    model_config = ConfigDict(defer_build=True)
    id: str
    date: datetime
    name: Optional[str] = None
    message_type: str
    otid: Optional[str] = None
    sender_id: Optional[str] = None
    step_id: Optional[str] = None

    @field_serializer("date")
    def _date(self, value: datetime) -> str:
        return format_date(value)


class SystemMessage(LettaMessageBase):
    message_type: Literal["system_message"] = "system_message"
    content: str


class UserMessage(LettaMessageBase):
    message_type: Literal["user_message"] = "user_message"
    content: Union[str, list[TextContent]]


class ReasoningMessage(LettaMessageBase):
    message_type: Literal["reasoning_message"] = "reasoning_message"
    source: Literal["reasoner_model", "non_reasoner_model"] = "non_reasoner_model"
    reasoning: str
    signature: Optional[str] = None


class HiddenReasoningMessage(LettaMessageBase):
    message_type: Literal["hidden_reasoning_message"] = "hidden_reasoning_message"
    state: Literal["redacted", "omitted"]
    hidden_reasoning: Optional[str] = None


class ToolCall(BaseModel):
    model_config = ConfigDict(defer_build=True)
    name: str
    arguments: str
    tool_call_id: str


class ToolCallDelta(BaseModel):
    model_config = ConfigDict(defer_build=True)
    name: Optional[str] = None
    arguments: Optional[str] = None
    tool_call_id: Optional[str] = None


class ToolCallMessage(LettaMessageBase):
    message_type: Literal["tool_call_message"] = "tool_call_message"
    tool_call: Union[ToolCall, ToolCallDelta]


class ToolReturnMessage(LettaMessageBase):
    message_type: Literal["tool_return_message"] = "tool_return_message"
    tool_return: str
    status: Literal["success", "error"]
    tool_call_id: str
    stdout: Optional[list[str]] = None
    stderr: Optional[list[str]] = None


class AssistantMessage(LettaMessageBase):
    message_type: Literal["assistant_message"] = "assistant_message"
    content: Union[str, list[TextContent]]


LettaMessage = Annotated[
    Union[
        SystemMessage,
        UserMessage,
        ReasoningMessage,
        HiddenReasoningMessage,
        ToolCallMessage,
        ToolReturnMessage,
        AssistantMessage,
    ],
    Field(discriminator="message_type"),
]


def dump_message(message: LettaMessageBase) -> dict[str, Any]:
    """Wire form of one LettaMessage: tool calls omit null keys (contract §3.8)."""
    if isinstance(message, ToolCallMessage):
        return message.model_dump(mode="json", exclude_none=True)
    return message.model_dump(mode="json")


class LettaUsageStatistics(BaseModel):
    model_config = ConfigDict(defer_build=True)
    message_type: Literal["usage_statistics"] = "usage_statistics"
    completion_tokens: int = 0
    prompt_tokens: int = 0
    total_tokens: int = 0
    step_count: int = 0
    steps_messages: Optional[list[list[Any]]] = None
    run_ids: Optional[list[str]] = None

    def add(self, other: LettaUsageStatistics) -> None:
        self.completion_tokens += other.completion_tokens
        self.prompt_tokens += other.prompt_tokens
        self.total_tokens += other.total_tokens
        self.step_count += other.step_count


class LettaStopReason(BaseModel):
    """Why the run stopped, in later Letta's words (`end_turn`, `max_steps`, `error`, …)."""

    model_config = ConfigDict(defer_build=True)

    message_type: Literal["stop_reason"] = "stop_reason"
    stop_reason: str


class LettaResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)
    messages: list[LettaMessage]
    usage: LettaUsageStatistics
    stop_reason: Optional[LettaStopReason] = None  # later Letta's addition; letta-client 0.1.138 ignores it


UpdatableType = Literal["system_message", "user_message", "reasoning_message", "assistant_message"]


class MessageUpdate(BaseModel):
    """`LettaMessageUpdateUnion` with an optional discriminator (contract §3.9)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    message_type: Optional[UpdatableType] = None
    content: Optional[Union[Annotated[str, Field(max_length=TEXT_MAX)], Annotated[list[TextContent], Field(max_length=50)]]] = (
        None
    )
    reasoning: Optional[Annotated[str, Field(max_length=TEXT_MAX)]] = None

    @model_validator(mode="after")
    def _fields_for_type(self) -> MessageUpdate:
        if self.message_type == "reasoning_message" and self.reasoning is None:
            raise ValueError("'reasoning' is required for reasoning_message")
        if self.message_type in {"system_message", "user_message", "assistant_message"} and self.content is None:
            raise ValueError(f"'content' is required for {self.message_type}")
        if self.message_type is None and self.content is None and self.reasoning is None:
            raise ValueError("one of 'content' or 'reasoning' is required")
        return self
