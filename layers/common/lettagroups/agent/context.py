"""What one agent sees of a conversation (contract §7.2), as model messages, trimmed to its context window.

Which stored messages agent A sees is `visibility`; how each appears to it:
- an input: as stored (already packed, §7.3);
- A's own assistant and tool messages: in full (reasoning, tool calls, tool returns);
- another agent's `shared` assistant reply: a system message in the system_alert envelope holding what it said
  through send_message, or the colleague it handed the conversation to and why (a swarm handoff), named after the
  speaker.

Trimming keeps the newest history that fits. An assistant message and the tool results answering it are one
unit, so a window never starts with an orphaned tool result. Tokens are estimated at ~4 characters per token.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional

from ..dal import messages as messages_dal
from ..models.presentation import pack_system_alert, parse_arguments, send_message_texts, unpack_message
from ..models.stored import StoredMessage
from .catalog import HANDOFF_TOOL
from .providers.base import estimate_tokens
from .providers.errors import ContextWindowExceededError
from .visibility import visibility

INNER_THOUGHTS = "inner_thoughts"
HISTORY_SCAN_LIMIT = 2000  # stored messages read per step at most, whatever the window
MESSAGE_OVERHEAD_TOKENS = 4


def _reasoning_text(message: StoredMessage) -> str:
    parts = [str(p.get("text") or "") for p in message.content if p.get("type") == "text"]
    parts += [str(p.get("reasoning") or "") for p in message.content if p.get("type") == "reasoning"]
    return "\n".join(p for p in parts if p)


def to_chat(message: StoredMessage, agent_id: str, *, inner_thoughts_in_kwargs: bool = False) -> list[dict[str, Any]]:
    """The model messages (OpenAI chat format) one stored message contributes to `agent_id`'s context."""
    seen = visibility(message, agent_id)
    if seen is None:
        return []
    if seen == "input":
        chat: dict[str, Any] = {"role": message.role, "content": message.text()}
        if message.name:
            chat["name"] = message.name
        return [chat]
    if seen == "peer":
        return [
            {"role": "system", "content": pack_system_alert(text, message.created_at), "name": message.name}
            for text in [*send_message_texts(message), *handoff_notes(message)]
        ]
    if message.role == "tool":
        return [{"role": "tool", "tool_call_id": message.tool_call_id, "content": message.text(), "name": message.name}]
    reasoning = _reasoning_text(message)
    calls = []
    for call in message.tool_calls or []:
        function = dict(call.get("function") or {})
        if inner_thoughts_in_kwargs and reasoning:
            # Letta's convention: the model wrote its thoughts as the first argument, so show them back that way.
            try:
                args = json.loads(function.get("arguments") or "{}")
                function["arguments"] = json.dumps({INNER_THOUGHTS: reasoning, **args}, ensure_ascii=False)
            except ValueError:
                pass
        calls.append({"id": call.get("id"), "type": "function", "function": function})
    chat = {"role": "assistant", "content": None if (inner_thoughts_in_kwargs and calls) else (reasoning or None)}
    if calls:
        chat["tool_calls"] = calls
    elif chat["content"] is None:
        return []
    return [chat]


def handoff_notes(message: StoredMessage) -> list[str]:
    """What the other participants hear of a swarm handoff (its tool call): who takes over, and why."""
    notes = []
    for call in message.tool_calls or []:
        function = call.get("function") or {}
        if function.get("name") == HANDOFF_TOOL:
            args = parse_arguments(function.get("arguments"))
            why = str(args.get("message") or "")
            note = f"{message.name or message.agent_id} handed the conversation to {args.get('agent_name')}"
            notes.append(f"{note}: {why}" if why else note)
    return notes


def tokens_of(messages: list[dict[str, Any]]) -> int:
    return sum(estimate_tokens(m) + MESSAGE_OVERHEAD_TOKENS for m in messages)


@dataclass
class HistoryUnit:
    messages: list[dict[str, Any]]
    tokens: int


def history_units(
    newest_first: Iterable[StoredMessage],
    agent_id: str,
    *,
    budget_tokens: int,
    inner_thoughts_in_kwargs: bool = False,
    scan_limit: int = HISTORY_SCAN_LIMIT,
) -> list[HistoryUnit]:
    """The newest visible history (returned oldest first) whose units fit in `budget_tokens`, from the conversation's
    messages newest first (read lazily: only as many as the window needs)."""
    units: list[HistoryUnit] = []
    pending_tools: list[dict[str, Any]] = []  # tool results met (newest first) before their assistant message
    used = 0
    for scanned, message in enumerate(newest_first):
        if scanned >= scan_limit:
            break
        chats = to_chat(message, agent_id, inner_thoughts_in_kwargs=inner_thoughts_in_kwargs)
        if not chats:
            continue
        if chats[0]["role"] == "tool":
            pending_tools = chats + pending_tools
            continue
        if chats[0]["role"] == "assistant" and chats[0].get("tool_calls"):
            unit_messages = chats + pending_tools
        else:
            unit_messages = chats
        pending_tools = []
        unit = HistoryUnit(unit_messages, tokens_of(unit_messages))
        if used + unit.tokens > budget_tokens:
            break
        units.append(unit)
        used += unit.tokens
    units.reverse()
    return units


class Window:
    """History units that fit next to the fixed parts of the prompt; the oldest go first when space runs out."""

    def __init__(self, units: list[HistoryUnit], budget: int) -> None:
        self.units = units
        self.budget = budget

    def messages(self, fixed_tokens: int) -> list[dict[str, Any]]:
        while self.units and fixed_tokens + sum(u.tokens for u in self.units) > self.budget:
            self.units.pop(0)
        if fixed_tokens > self.budget:
            raise ContextWindowExceededError(
                f"The step's prompt needs about {fixed_tokens} tokens; the context window allows {self.budget}", provider="letta"
            )
        return [m for u in self.units for m in u.messages]


def sanitize(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pair every tool call with its result, right after the calling message; drop what cannot be paired.

    Model APIs refuse a tool result without its call and a call without its result. A result may sit apart from
    its call (a paused step resumed with the result as input), so results are moved next to their calls.
    """
    results: dict[str, dict[str, Any]] = {}
    for message in messages:
        if message.get("role") == "tool" and message.get("tool_call_id"):
            results.setdefault(str(message["tool_call_id"]), message)
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    for message in messages:
        role = message.get("role")
        if role == "tool":
            continue
        if role == "assistant" and message.get("tool_calls"):
            paired = [c for c in message["tool_calls"] if str(c.get("id")) in results and str(c.get("id")) not in used]
            if paired:
                out.append({**message, "tool_calls": paired})
                for call in paired:
                    used.add(str(call.get("id")))
                    out.append(results[str(call.get("id"))])
            elif message.get("content"):
                out.append({k: v for k, v in message.items() if k != "tool_calls"})
            continue
        out.append(message)
    return out


def search_lines(
    org_id: str, conversation_id: str, agent_id: str, query: str, *, after: Optional[str] = None, scan_limit: int = 1000
) -> list[str]:
    """Lines of the agent's visible history (past `after`, where its view of the conversation starts) containing
    `query` (case-insensitive), newest first."""
    needle = query.lower()
    lines: list[str] = []
    history = messages_dal.iter_messages(org_id, conversation_id, after=after, descending=True, page_size=100)
    for scanned, message in enumerate(history):
        if scanned >= scan_limit:
            break
        seen = visibility(message, agent_id)
        if seen is None or message.role == "tool":
            continue
        texts = [unpack_message(message.text())] if seen == "input" else send_message_texts(message)
        who = message.name or message.role
        stamp = message.created_at.strftime("%Y-%m-%d %H:%M:%S")
        lines += [f"{stamp} {who}: {t}" for t in texts if t and needle in t.lower()]
    return lines
