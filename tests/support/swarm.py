"""What a swarm handoff looks like (swarm-handoffs.md): the tool's name, the messages of one handoff, and the
logical messages of letta-client's answers and stream chunks."""

from __future__ import annotations

from typing import Any

HANDOFF = "handoff_to_agent"


def handed_off(caller: str, receiver: str) -> list[tuple[str, Any]]:
    """(message_type, name) of `caller` handing the conversation to `receiver`, who then replies."""
    return [
        ("reasoning_message", caller),
        ("tool_call_message", caller),
        ("tool_return_message", HANDOFF),
        ("reasoning_message", receiver),
        ("assistant_message", receiver),
    ]


def spoken(messages: list[Any]) -> list[tuple[str, Any]]:
    """(message_type, name) per logical message of letta-client objects (token chunks of one message count once)."""
    out: list[tuple[str, Any]] = []
    seen: list[tuple[Any, str]] = []
    for m in messages:
        if getattr(m, "message_type", None) == "usage_statistics" or not hasattr(m, "id"):
            continue
        key = (m.id, m.message_type)
        if key not in seen:
            seen.append(key)
            out.append((m.message_type, m.name))
    return out
