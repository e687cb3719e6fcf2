"""Stored records: what the data-access layer persists (contract §3.10), independent of wire shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]


class StoredMessage(BaseModel):
    """One stored message. The id is a UUIDv7, so it is also the transcript's total order key."""

    model_config = ConfigDict(defer_build=True)

    id: str
    organization_id: str
    conversation_id: str  # the group id for group runs; the agent id for direct agent traffic
    group_id: Optional[str] = None
    agent_id: Optional[str] = None  # the agent whose step produced it, or that it was addressed to
    role: Role
    content: list[dict[str, Any]] = Field(default_factory=list)
    name: Optional[str] = None
    model: Optional[str] = None
    tool_calls: Optional[list[dict[str, Any]]] = None  # OpenAI format: {id, type, function: {name, arguments}}
    tool_call_id: Optional[str] = None
    tool_returns: Optional[list[dict[str, Any]]] = None  # [{status, stdout, stderr, raw}]
    step_id: Optional[str] = None
    run_id: Optional[str] = None
    otid: Optional[str] = None
    sender_id: Optional[str] = None
    batch_item_id: Optional[str] = None
    created_at: datetime
    # Who sees it in their context (contract §7.2): None = every participant; else only this agent.
    recipient_id: Optional[str] = None
    # Assistant replies that other participants receive as system alerts on their next turn.
    shared: bool = False

    def text(self) -> str:
        for part in self.content:
            if part.get("type") == "text":
                return str(part.get("text", ""))
        return ""
