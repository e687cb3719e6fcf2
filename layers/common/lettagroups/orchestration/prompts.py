"""The texts a group run adds to what agents see: per-request persona appendices (contract §7.4; the swarm's,
swarm-handoffs.md), the dynamic manager's selection prompt (§8.3), the supervisor's deliveries (§8.2) and the
sleeptime transcripts (§8.4, §8.5)."""

from __future__ import annotations

from collections.abc import Sequence


def round_robin_appendix(participants: int, description: str) -> str:
    return (
        "%%% GROUP CHAT CONTEXT %%%\n"
        f"You are participating in a group chat with {max(participants - 1, 0)} other participants.\n"
        f"Group chat description: {description}\n\n"
        "GROUP CHAT GUIDELINES:\n"
        "1. Others can see your messages; all participants share the conversation.\n"
        "2. Build on what others have contributed instead of repeating it.\n"
        "3. Stay on topic while bringing your own perspective.\n"
        "4. Be concise: others are waiting for their turn.\n"
        "5. Keep your own personality and voice.\n"
        "6. Ask the other participants questions when it helps the conversation.\n"
        "7. Acknowledge and answer when someone addresses you directly.\n"
        "8. Share the knowledge you have that is relevant to the discussion."
    )


def swarm_appendix(colleagues: Sequence[str], description: str) -> str:
    """What a swarm participant is told, for the request only: who its colleagues are and when to hand off."""
    return (
        "%%% SWARM CONTEXT %%%\n"
        f"You share this conversation with the user and {len(colleagues)} colleague(s): {', '.join(colleagues)}.\n"
        f"Group description: {description}\n\n"
        "Answer the user yourself when you can. When a colleague is better placed to answer, call handoff_to_agent "
        "with their name and what they need to know instead of replying: they answer next, and the user goes on "
        "talking to them. When a colleague hands the conversation to you, answer the user."
    )


def dynamic_participant_appendix(description: str) -> str:
    return (
        "You are a participant in a group chat with other agents and one user. Respond when it is your turn, "
        f"in your own voice. Group chat description: {description}\nAbout you: see your persona block."
    )


def dynamic_manager_appendix(participants: int, description: str) -> str:
    return (
        f"You are overseeing a group chat with {participants} agents and one user. "
        f"Group chat description: {description}\n"
        "Each turn you receive the chat history and must decide which agent speaks next. "
        "The memory blocks labelled with agent ids describe the agents."
    )


def selection_prompt(options: Sequence[tuple[str, str]], history: Sequence[str]) -> str:
    """What the dynamic manager is asked each turn: `options` are (agent id, name) pairs."""
    return (
        "Choose the most suitable agent to reply to the latest message in the group chat from the following options: "
        f"[{', '.join(f'{agent_id} ({name})' for agent_id, name in options)}]. Do not respond to the messages yourself, "
        "your task is only to decide the next speaker, not to answer the question. Reply with the name of the next "
        "speaker.\n\nChat history:\n" + "\n".join(history)
    )


def supervisor_delivery(supervisor_id: str, message: str) -> str:
    """The broadcast as a worker receives it (0.7.7's wording)."""
    return (
        f"[Incoming message from agent with ID '{supervisor_id}' - to reply to this message, make sure to use the "
        f"'send_message' at the end, and the system will notify the sender of your response] {message}"
    )


def sleeptime_transcript(lines: Sequence[str]) -> str:
    return "Here is the latest conversation to process into memory:\n" + "\n".join(lines)


def voice_transcript(lines: Sequence[str]) -> str:
    return "Summarise the following conversation chunk into the human memory block:\n" + "\n".join(
        f"{i + 1}. {line}" for i, line in enumerate(lines)
    )
