"""What the model was asked and answered: records of model calls (the workflow tests' `model_calls`, the agent
tests' `recording`) and the texts a call received."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from lettagroups.agent.providers.base import ChatRequest, ChatResponse


@dataclass
class ModelCall:
    agent_id: str
    agent_name: str
    request: ChatRequest
    response: ChatResponse


class ModelCalls(list[ModelCall]):
    """Every model call made by agent steps while the fixture is active (the tasks run in this process)."""

    def of(self, agent_id: str) -> list[ModelCall]:
        return [c for c in self if c.agent_id == agent_id]


class RecordingProvider:
    """Wraps a provider and keeps a copy of every request it was given."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.inner_thoughts_in_kwargs = inner.inner_thoughts_in_kwargs
        self.supports_token_streaming = inner.supports_token_streaming
        self.requests: list[Any] = []
        self.responses: list[Any] = []

    def complete(self, request: Any, on_delta: Any = None) -> Any:
        self.requests.append(copy.deepcopy(request))
        response = self.inner.complete(request, on_delta)
        self.responses.append(response)
        return response


def inbox(request: ChatRequest) -> list[str]:
    """The unpacked texts of the user/system messages a model call received (inputs and peer replies)."""
    out = []
    for message in request.messages:
        if message.get("role") not in ("user", "system"):
            continue
        content = message.get("content")
        try:
            envelope = json.loads(content)
        except (TypeError, ValueError):
            out.append(str(content))
            continue
        out.append(str(envelope.get("message")) if isinstance(envelope, dict) and "message" in envelope else str(content))
    return out
