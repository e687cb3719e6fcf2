"""Stored records of runs: what the data-access layer persists for a run and its steps (typed, not dicts)."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .runs import Run, RunStatus

RunKind = Literal["group", "background"]
TERMINAL: tuple[RunStatus, ...] = ("completed", "failed", "cancelled")


class Usage(BaseModel):
    """Token and step counts, summed over steps."""

    model_config = ConfigDict(defer_build=True)

    completion_tokens: int = 0
    prompt_tokens: int = 0
    total_tokens: int = 0
    step_count: int = 0

    def plus(self, other: Usage) -> Usage:
        return Usage(
            completion_tokens=self.completion_tokens + other.completion_tokens,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            step_count=self.step_count + other.step_count,
        )


class RequestConfig(BaseModel):
    """How a run's messages are presented (the request's assistant-message settings) and streamed."""

    model_config = ConfigDict(defer_build=True)

    use_assistant_message: bool = True
    assistant_message_tool_name: str = "send_message"
    assistant_message_tool_kwarg: str = "message"
    stream_tokens: bool = False
    include_return_message_types: Optional[list[str]] = None  # only these are returned and streamed
    max_steps: Optional[int] = None  # model calls per agent step, at most


# Our stop reasons in later Letta's vocabulary (`LettaResponse.stop_reason`).
LETTA_STOP_REASONS = {"end_turn": "end_turn", "max_turns": "max_steps", "termination_token": "end_turn", "error": "error"}


class RunFailureRecord(BaseModel):
    """Why a run failed (see orchestration/failure.py, which builds and reads it)."""

    model_config = ConfigDict(defer_build=True)

    status: int = 500
    detail: str = "run failed"
    kind: str = "internal"
    code: Optional[str] = None
    retryable: bool = False  # the model's failure was of a kind that may pass (rate limit, timeout, server error)


class RunRecord(BaseModel):
    """One run: a send to a conversation (`kind="group"`), or a background sleeptime pass (`kind="background"`)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    id: str
    kind: RunKind = "group"
    status: RunStatus = "created"
    created_at: str
    updated_at: Optional[str] = None
    completed_at: Optional[str] = None
    created_by_id: Optional[str] = None
    last_updated_by_id: Optional[str] = None
    conversation_id: str
    group_id: Optional[str] = None
    agent_id: Optional[str] = None  # background passes: the sleeptime agent
    parent_run_id: Optional[str] = None
    callback_url: Optional[str] = None
    callback_sent_at: Optional[str] = None
    callback_status_code: Optional[int] = None
    callback_error: Optional[str] = None
    request_config: RequestConfig = Field(default_factory=RequestConfig)
    input_message_ids: list[str] = Field(default_factory=list)
    response_message_ids: list[str] = Field(default_factory=list)
    usage: Optional[dict[str, Any]] = None  # LettaUsageStatistics as sent to the client (run_ids included)
    stop_reason: Optional[str] = None
    failure: Optional[RunFailureRecord] = None
    background_run_ids: list[str] = Field(default_factory=list)
    background: Optional[dict[str, Any]] = None  # a background pass: what it is to process (orchestration.state.BackgroundPass)
    metadata: dict[str, Any] = Field(default_factory=dict)
    fingerprint: Optional[str] = None  # what was sent, so that a client's retry of a failed send resumes it
    attempt: int = 1
    unanswered: bool = False  # a synchronous send of it was answered with a 504: a retry gets its result

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    def to_run(self) -> Run:
        return Run.model_validate(
            {
                "id": self.id,
                "status": self.status,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
                "completed_at": self.completed_at,
                "created_by_id": self.created_by_id,
                "last_updated_by_id": self.last_updated_by_id,
                "metadata": self.metadata,
                "job_type": "run",
                "callback_url": self.callback_url,
                "callback_sent_at": self.callback_sent_at,
                "callback_status_code": self.callback_status_code,
                "user_id": self.created_by_id,
            }
        )


class StepRecord(BaseModel):
    """The idempotency record of one agent step of a run, written in the step's own transaction."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    step_key: str
    agent_id: str
    conversation_id: str
    message_ids: list[str] = Field(default_factory=list)
    input_message_ids: list[str] = Field(default_factory=list)
    output_message_ids: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    assistant_texts: list[str] = Field(default_factory=list)
    stop_reason: str = "end_turn"
    step_ids: list[str] = Field(default_factory=list)
    paused_tool_call: Optional[dict[str, Any]] = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)  # executed calls: {name, arguments, status}
    seq_after: Optional[int] = None  # the run's last event sequence number once this step was written
    error: Optional[str] = None  # a supervisor worker that failed for good: why
    attempts: Optional[int] = None  # and how many times it was tried
    created_at: Optional[str] = None


class ConversationHead(BaseModel):
    """The lock of a conversation (one run at a time, contract §7.6a) and what its last run was."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    holder: Optional[str] = None  # the run holding the conversation
    lease_until: int = 0  # epoch seconds; a holder past its lease has lost the lock
    last_run_id: Optional[str] = None
    last_fingerprint: Optional[str] = None
