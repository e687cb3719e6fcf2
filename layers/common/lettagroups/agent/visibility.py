"""Which stored messages of a conversation an agent sees (contract §7.2). For agent A:
- inputs (role user/system) whose `recipient_id` is None or A;
- A's own assistant and tool messages;
- another agent's `shared` assistant reply (as a peer's);
- nothing else (other agents' reasoning and tool traffic, inputs addressed to other agents).

The agent's context (`context.py`) and the transcripts an agent is shown (`logic/transcripts.py`) both apply it;
it lives alone so the transcript routes need none of the model machinery.
"""

from __future__ import annotations

from typing import Literal, Optional

from ..models.stored import StoredMessage

Visibility = Literal["input", "own", "peer"]


def visibility(message: StoredMessage, agent_id: str) -> Optional[Visibility]:
    if message.role in ("user", "system"):
        return "input" if message.recipient_id in (None, agent_id) else None
    if message.agent_id == agent_id:
        return "own"
    if message.role == "assistant" and message.shared:
        return "peer"
    return None
