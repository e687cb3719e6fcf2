"""Fixtures for agent-runtime tests: agents created through the real agent logic, a conversation id per test,
and a provider wrapper that records every model request."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

import pytest

if TYPE_CHECKING:
    from lettagroups.models.stored_entities import AgentRecord

from support.model_calls import RecordingProvider


@pytest.fixture
def recording() -> Callable[[Optional[dict[str, Any]]], RecordingProvider]:
    from lettagroups.agent.providers.offline import OfflineProvider

    def make(llm_config: Optional[dict[str, Any]] = None) -> RecordingProvider:
        return RecordingProvider(OfflineProvider(llm_config or {"model": "letta-offline", "model_endpoint_type": "offline"}))

    return make


@pytest.fixture
def make_agent(actor: Any) -> Callable[..., AgentRecord]:
    """Create an agent (offline model by default) and return its stored record."""
    from lettagroups.dal import agents as agents_dal
    from lettagroups.logic.agents import create_agent
    from lettagroups.models.agents import CreateAgent
    from lettagroups.models.blocks import CreateBlock

    def make(
        name: str = "fred",
        persona: Optional[str] = "I am Fred, a cheerful mechanic. I love old engines.",
        human: Optional[str] = "",
        block_ids: Optional[list[str]] = None,
        **fields: Any,
    ) -> AgentRecord:
        blocks = []
        if persona is not None:
            blocks.append(CreateBlock(label="persona", value=persona))
        if human is not None:
            blocks.append(CreateBlock(label="human", value=human))
        state = create_agent(actor, CreateAgent(name=name, memory_blocks=blocks, block_ids=block_ids, **fields))
        record = agents_dal.get_agent(actor.organization_id, state.id)
        assert record is not None
        return record

    return make


@pytest.fixture
def conversation() -> dict[str, str]:
    from lettagroups.ids import new_id

    group_id = new_id("group")
    return {"conversation_id": group_id, "group_id": group_id, "run_id": new_id("run")}
