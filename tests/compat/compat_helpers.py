"""Helpers shared by the compatibility tests (imported by the tests and by this folder's conftest)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from letta_client import Letta
from letta_client.core.api_error import ApiError


class Tracker:
    """Creates objects through the SDK and deletes them at teardown (groups, then agents, then blocks)."""

    def __init__(self, letta: Letta) -> None:
        self.letta = letta
        self.groups: list[str] = []
        self.agents: list[str] = []
        self.blocks: list[str] = []

    def agent(self, name: str | None = None, **kwargs: Any) -> Any:
        agent = self.letta.agents.create(name=name or f"agent-{uuid.uuid4().hex[:8]}", **kwargs)
        self.agents.append(agent.id)
        return agent

    def group(self, agent_ids: list[str], description: str = "", **kwargs: Any) -> Any:
        group = self.letta.groups.create(agent_ids=agent_ids, description=description, **kwargs)
        self.groups.append(group.id)
        return group

    def block(self, label: str, value: str, **kwargs: Any) -> Any:
        block = self.letta.blocks.create(label=label, value=value, **kwargs)
        self.blocks.append(block.id)
        return block

    def cleanup(self) -> None:
        for delete, ids in (
            (self.letta.groups.delete, self.groups),
            (self.letta.agents.delete, self.agents),
            (self.letta.blocks.delete, self.blocks),
        ):
            for object_id in reversed(ids):
                try:
                    delete(object_id)
                except ApiError as exc:
                    assert exc.status_code in (404, 409), exc  # already gone, or still managing a group


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def assert_error(response: httpx.Response, status: int, detail: str | None = None) -> Any:
    """A clear JSON error: the status, a `detail` key, and for 422 FastAPI's list of {loc, msg, type}."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"}, str(body)[:500]
    if status == 422:
        assert isinstance(body["detail"], list) and body["detail"], body
        for item in body["detail"]:
            assert {"loc", "msg", "type"} <= set(item), item
            assert isinstance(item["loc"], list) and item["loc"] and isinstance(item["msg"], str)
    else:
        assert isinstance(body["detail"], str) and body["detail"], body
        if detail is not None:
            assert detail in body["detail"], body
    return body["detail"]
