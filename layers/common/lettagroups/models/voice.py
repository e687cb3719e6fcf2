"""The request of `POST /v1/voice-beta/{agent_id}/chat/completions`: OpenAI's chat-completions shape."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class ChatCompletionRequest(BaseModel):
    """The parts of OpenAI's chat-completions request the voice route reads (others are accepted and ignored)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    messages: list[dict[str, Any]] = Field(min_length=1, max_length=500)
    model: Optional[str] = Field(default=None, max_length=200)
    stream: bool = False
