"""Workflow tests run the real ASL in moto's interpreter, with the task handler in-process.
Tests isolate themselves by organization (a fresh `actor` each)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lettagroups.agent.providers.base import ChatRequest, ChatResponse
from lettagroups.models.identity import Actor

from support.model_calls import ModelCall, ModelCalls


@pytest.fixture
def run_env(workflows: dict[str, str], actor: Actor) -> Actor:
    return actor


@pytest.fixture
def model_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelCalls]:
    """Records what the model received and answered, by wrapping the provider the agent step asks for."""
    from lettagroups.agent import step

    calls = ModelCalls()
    original = step.provider_for

    def recording_provider_for(llm_config: Any) -> Any:
        provider = original(llm_config)
        complete = provider.complete

        def recording_complete(request: ChatRequest, on_delta: Any = None) -> ChatResponse:
            response = complete(request, on_delta)
            calls.append(
                ModelCall(
                    agent_id=str(request.metadata.get("agent_id")),
                    agent_name=str(request.metadata.get("agent_name")),
                    request=request,
                    response=response,
                )
            )
            return response

        provider.complete = recording_complete
        return provider

    monkeypatch.setattr(step, "provider_for", recording_provider_for)
    yield calls
