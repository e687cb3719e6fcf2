"""Builders and readers shared by the workflow tests."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from lettagroups.agent.providers.base import ChatRequest, ChatResponse
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import group_messages
from lettagroups.logic import groups as groups_logic
from lettagroups.logic import runs as runs_logic
from lettagroups.logic.llm_configs import offline_llm_config
from lettagroups.models.agents import CreateAgent, LLMConfig
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.groups import GroupCreate
from lettagroups.models.identity import Actor
from lettagroups.models.messages import LettaRequest, LettaResponse
from lettagroups.models.records import RunRecord
from lettagroups.models.runs import Run

NAMES = ["fred", "velma", "daphne", "shaggy"]


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


def offline_model(faults: str = "") -> LLMConfig:
    """The built-in offline model, with optional fault injection (see agent/providers/offline_faults.py)."""
    config = offline_llm_config()
    if faults:
        config.model = f"letta-offline?{faults}"
    return config


def make_agent(actor: Actor, name: str, persona: str | None = None, **extra: object) -> str:
    blocks = [CreateBlock(label="persona", value=persona or f"I am {name}."), CreateBlock(label="human", value="")]
    return agents_logic.create_agent(actor, CreateAgent(name=name, memory_blocks=blocks, **extra)).id  # type: ignore[arg-type]


def make_group(actor: Actor, agent_ids: list[str], manager_config: dict | None = None, description: str = "test group") -> str:
    body: dict = {"agent_ids": agent_ids, "description": description}
    if manager_config:
        body["manager_config"] = manager_config
    return groups_logic.create_group(actor, GroupCreate.model_validate(body)).id


def request(text: str, role: str = "user") -> LettaRequest:
    return LettaRequest.model_validate({"messages": [{"role": role, "content": text}]})


def send(actor: Actor, group_id: str, text: str) -> LettaResponse:
    return group_messages.send_message(actor, group_id, request(text))


def transcript(actor: Actor, group_id: str, **kwargs: Any) -> list[Any]:
    return group_messages.list_messages(actor, group_id, **{"limit": 500, **kwargs})


def said(messages: list[Any]) -> list[str]:
    """The assistant texts among LettaMessages, in order."""
    return [m.content for m in messages if m.message_type == "assistant_message"]


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


def wait_for_run(actor: Actor, run_id: str, timeout: float = 20.0) -> Run:
    deadline = time.monotonic() + timeout
    while True:
        run = runs_logic.retrieve_run(actor, run_id)
        if run.status in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def group_runs(actor: Actor, group_id: str, kind: str = "group") -> list[RunRecord]:
    """The run records of a group (oldest first); `kind` is "group" (sends) or "background"."""
    from lettagroups.dal import runs as runs_dal

    return [r for r in runs_dal.list_conversation_runs(actor.organization_id, group_id) if r.kind == kind]
