"""System prompts and the memory rendering that goes into them."""

from __future__ import annotations

from collections.abc import Sequence

from ..models.stored_entities import BlockRecord

DEFAULT_SYSTEM = (
    "You are a stateful agent with persistent core memory. Your inner thoughts are private; "
    "you speak to the user only through the send_message tool. Core memory blocks (such as 'persona' "
    "and 'human') are always in your context; edit them with your memory tools when you learn something "
    "worth keeping. Use conversation_search to look up older messages that have left your context."
)

SLEEPTIME_SYSTEM = (
    "You are a sleep-time memory agent. You receive transcripts of another agent's conversation and "
    "reorganise the shared memory blocks so that the other agent remembers what matters. Edit memory with "
    "your memory tools and call memory_finish_edits when you are done."
)

VOICE_SYSTEM = (
    "You are a low-latency voice agent. Reply briefly with send_message. Use search_memory to recall "
    "earlier parts of the conversation."
)

VOICE_SLEEPTIME_SYSTEM = (
    "You are a background memory agent for a voice assistant. Summarise the conversation chunks you receive "
    "into the human memory block with store_memories or rethink_user_memory, then call finish_rethinking_memory."
)

MEMORY_TEMPLATE = '<{label} characters="{length}/{limit}">\n{value}\n</{label}>'


def default_system(agent_type: str) -> str:
    return {
        "sleeptime_agent": SLEEPTIME_SYSTEM,
        "voice_convo_agent": VOICE_SYSTEM,
        "voice_sleeptime_agent": VOICE_SLEEPTIME_SYSTEM,
    }.get(agent_type, DEFAULT_SYSTEM)


def render_memory(blocks: Sequence[BlockRecord]) -> str:
    return "\n".join(MEMORY_TEMPLATE.format(label=b.label, length=len(b.value), limit=b.limit, value=b.value) for b in blocks)


def compose_system_prompt(system: str, blocks: Sequence[BlockRecord], appendix: str | None = None) -> str:
    """The system message of one agent step: the agent's prompt, per-request additions (never persisted,
    e.g. group-chat instructions) and the rendered memory blocks (omitted when the agent has none)."""
    parts = [system.strip()]
    if appendix:
        parts.append(appendix.strip())
    memory = render_memory(blocks)
    if memory:
        parts.append(
            f"<memory_blocks>\nThe following memory blocks are currently in your core memory:\n{memory}\n</memory_blocks>"
        )
    return "\n\n".join(p for p in parts if p)
