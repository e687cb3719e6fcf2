"""Trackers: they create objects on the local server and delete them at teardown, so tests sharing the server's
default organization clean up behind themselves (the `made` and `objects` fixtures).

- `Tracker`: through letta-client 0.1.138 (groups, agents, blocks).
- `Objects`: over raw HTTP (agents, groups), for the streaming tests.
"""

from __future__ import annotations

import uuid
from typing import Any, Optional

import httpx
from letta_client import Letta
from letta_client.core.api_error import ApiError


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


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

    def personas(self, names: list[str], *, unique: bool = True, **kwargs: Any) -> list[Any]:
        """One agent per name, each with a persona block saying who it is ("I am fred."); with `unique`, the names
        get a common suffix so that tests sharing the server never meet each other's agents."""
        from letta_client import CreateBlock

        suffix = f"-{uuid.uuid4().hex[:6]}" if unique else ""
        blocks = {n: [CreateBlock(label="persona", value=f"I am {n}.")] for n in names}
        return [self.agent(f"{n}{suffix}", memory_blocks=blocks[n], **kwargs) for n in names]

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


class Objects:
    """Creates agents and groups over HTTP and deletes them at teardown."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.groups: list[str] = []
        self.agents: list[str] = []

    def agent(self, name: Optional[str] = None, *, model: Optional[str] = None, **body: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "name": name or unique("agent"),
            "memory_blocks": [
                {"label": "persona", "value": f"I am {name or 'an agent'}."},
                {"label": "human", "value": "The user."},
            ],
            **body,
        }
        if model:
            payload["model"] = f"offline/letta-offline?{model}"
        response = self.http.post("/v1/agents/", json=payload)
        assert response.status_code == 200, response.text
        agent = response.json()
        self.agents.append(agent["id"])
        return dict(agent)

    def group(self, agent_ids: list[str], manager_config: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        body: dict[str, Any] = {"agent_ids": agent_ids, "description": "stream test"}
        if manager_config:
            body["manager_config"] = manager_config
        response = self.http.post("/v1/groups/", json=body)
        assert response.status_code == 200, response.text
        group = response.json()
        self.groups.append(group["id"])
        return dict(group)

    def cleanup(self) -> None:
        for path, ids in (("/v1/groups/", self.groups), ("/v1/agents/", self.agents)):
            for object_id in reversed(ids):
                self.http.delete(f"{path}{object_id}")
