"""What the offline model says: a deterministic, rule-based stand-in for an LLM.

Given the same prompt it answers the same way. The rules, in order:

1. After a tool result:
   - broadcast (`send_message_to_all_agents_in_group`) → `send_message` summarising the replies;
   - a memory edit, when a finishing tool is offered → `memory_finish_edits` / `finish_rethinking_memory`;
   - anything else → `send_message` mentioning the result.
2. On fresh input:
   - broadcast offered and not yet called since the latest input → call it with the input;
   - `handoff_to_agent` offered (swarm) and the latest user message asks to pass it on to a colleague named in the
     tool's enum: `ask <name>`, `@<name>`, `hand over to <name>`, `hand off to <name>` or `pass it to <name>`
     (case-insensitive) → hand off to the first such colleague in the text that this agent has not handed off to
     since that user message (so each agent hands off to each colleague at most once per user message);
   - no `send_message` offered but memory tools are (sleeptime agents) → `memory_insert` a summary line into
     `human` (or the first block) with request_heartbeat, then finish (rule 1); voice sleeptime agents use
     `store_memories`;
   - "remember …" with `core_memory_append` offered → append to `human`/first block, request_heartbeat;
   - "search <word>" with `conversation_search` / `search_memory` offered → search, request_heartbeat;
   - otherwise `send_message`: "I'm <name>. <persona gist>. About '<input snippet>': <remark>."
3. A prompt asking to choose the next speaker "from the following options: [a, b (name), …]" → the reply names
   one option (its name in parentheses when given), chosen by a hash of the whole prompt so it rotates.
4. A termination token: if the latest input or the agent's persona contains `say <TOKEN>` (an upper-case word,
   e.g. "say DONE!"), every reply of that step includes `<TOKEN>`.
5. Tool rules are honoured through the offered tools and a forced `tool_choice`.

Every answer carries inner monologue (the reasoning text).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from .base import ChatRequest

BROADCAST = "send_message_to_all_agents_in_group"
HANDOFF = "handoff_to_agent"
# How a user asks an agent to pass the conversation on (`{name}` is a colleague's name); README "Models" lists them.
HANDOFF_PHRASES = (
    r"\bask\s+{name}",
    r"@{name}",
    r"\bhand\s+over\s+to\s+{name}",
    r"\bhand\s+off\s+to\s+{name}",
    r"\bpass\s+it\s+to\s+{name}",
)
FINISH_TOOLS = ("memory_finish_edits", "finish_rethinking_memory")
MEMORY_EDIT_TOOLS = {
    "memory_insert",
    "memory_replace",
    "memory_rethink",
    "core_memory_append",
    "core_memory_replace",
    "store_memories",
    "rethink_user_memory",
}
_BLOCK_RE = re.compile(r'<([^\s<>/"]+) characters="\d+/\d+">\n(.*?)\n</\1>', re.DOTALL)
_OPTIONS_RE = re.compile(r"from the following options:\s*\[(.*?)\]", re.DOTALL | re.IGNORECASE)
_TOKEN_RE = re.compile(r"\bsay\s+[\"'“]?([A-Z][A-Z0-9_]*[!?]?)")
_SEARCH_RE = re.compile(r"\bsearch(?:\s+for)?\s+[\"'“]?([\w-]+)", re.IGNORECASE)
_REMARKS = (
    "here is my take",
    "I have a thought on that",
    "count me in",
    "that is an interesting point",
    "let me add my perspective",
)


@dataclass
class Decision:
    reasoning: str
    tool: Optional[str] = None
    arguments: dict[str, Any] = field(default_factory=dict)


def _digest(*parts: str) -> int:
    return int(hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest(), 16)


def _unpack(text: Any) -> str:
    if not isinstance(text, str):
        return "" if text is None else json.dumps(text)
    try:
        envelope = json.loads(text)
    except ValueError:
        return text
    if isinstance(envelope, dict) and "message" in envelope:
        return str(envelope["message"])
    return text


def _content_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return _unpack(content)


def _snippet(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def memory_blocks(system: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in _BLOCK_RE.finditer(system or "")}


def _gist(persona: str) -> str:
    flat = " ".join((persona or "").split())
    if not flat:
        return "I have no persona yet"
    first = re.split(r"(?<=[.!?])\s", flat, maxsplit=1)[0]
    return _snippet(first, 120).rstrip(".!? ")


class _View:
    """The facts of a request the rules look at."""

    def __init__(self, request: ChatRequest) -> None:
        self.request = request
        self.offered = [str(t.get("name")) for t in request.tools]
        choice = request.tool_choice
        self.forced = choice.get("name") if isinstance(choice, dict) else None
        self.name = str(request.metadata.get("agent_name") or "an agent")
        self.blocks = memory_blocks(request.system)
        self.persona = self.blocks.get("persona", "")
        messages = request.messages
        self.last = messages[-1] if messages else None
        self.input_index = next(
            (i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") in ("user", "system")), None
        )
        self.latest_input = _content_text(messages[self.input_index]) if self.input_index is not None else ""
        self.history_text = "\n".join(_content_text(m) for m in messages)

    def offers(self, tool: str) -> bool:
        return tool in self.offered and (self.forced is None or self.forced == tool)

    def called_since_input(self, tool: str) -> bool:
        start = (self.input_index or 0) + 1
        for message in self.request.messages[start:]:
            for call in message.get("tool_calls") or []:
                if (call.get("function") or {}).get("name") == tool:
                    return True
        return False

    def tool_of_last_result(self) -> Optional[str]:
        if not self.last or self.last.get("role") != "tool":
            return None
        call_id = self.last.get("tool_call_id")
        for message in reversed(self.request.messages):
            for call in message.get("tool_calls") or []:
                if call.get("id") == call_id:
                    return str((call.get("function") or {}).get("name"))
        return str(self.last.get("name") or "") or None

    def user_message_index(self) -> Optional[int]:
        messages = self.request.messages
        return next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "user"), None)

    def handed_off_since_user_message(self) -> set[str]:
        """The colleagues this agent handed off to since the latest user message (its own calls are in its context)."""
        start = (self.user_message_index() or 0) + 1
        names: set[str] = set()
        for message in self.request.messages[start:]:
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                if function.get("name") == HANDOFF:
                    try:
                        names.add(str(json.loads(function.get("arguments") or "{}").get("agent_name", "")).casefold())
                    except (ValueError, AttributeError):
                        continue
        return names

    def termination_token(self) -> Optional[str]:
        for text in (self.latest_input, self.persona):
            match = _TOKEN_RE.search(text or "")
            if match:
                return match.group(1)
        return None

    def memory_label(self) -> Optional[str]:
        labels = list(self.blocks)
        if "human" in labels:
            return "human"
        preferred = [label for label in labels if label not in ("memory_persona", "persona")]
        candidates = preferred or labels
        return candidates[0] if candidates else None


def _reply(view: _View, text: str) -> Decision:
    token = view.termination_token()
    if token and not text.endswith(token):
        text = f"{text} {token}"
    return Decision(
        reasoning=f"{view.name} decides how to answer '{_snippet(view.latest_input, 60)}'.",
        tool="send_message",
        arguments={"message": text},
    )


def _greeting(view: _View) -> str:
    snippet = _snippet(view.latest_input) or "nothing yet"
    remark = _REMARKS[_digest(view.name, snippet) % len(_REMARKS)]
    return f"I'm {view.name}. {_gist(view.persona)}. About '{snippet}': {remark}."


def _choose_speaker(view: _View, options_text: str) -> Decision:
    options = [o.strip().strip("'\"") for o in options_text.split(",") if o.strip()]
    chosen = options[_digest(view.history_text) % len(options)] if options else ""
    named = re.search(r"\(([^()]+)\)\s*$", chosen)
    display = named.group(1).strip() if named else chosen
    decision = _reply(view, f"{display} should speak next.")
    decision.reasoning = f"{view.name} picks the next speaker among {len(options)} options."
    return decision


def _after_tool(view: _View, tool: str) -> Decision:
    result = _unpack(_content_text(view.last or {}))
    if tool == BROADCAST:
        return _reply(view, f"I'm {view.name}. I heard back from the group: {_snippet(result, 300)}")
    if tool in MEMORY_EDIT_TOOLS:
        for finish in FINISH_TOOLS:
            if view.offers(finish):
                return Decision(reasoning=f"{view.name} finished editing memory.", tool=finish, arguments={})
        return _reply(view, f"I'm {view.name}. Noted, I will remember '{_snippet(view.latest_input)}'.")
    if tool in ("conversation_search", "search_memory"):
        return _reply(view, f"I'm {view.name}. Looking back through our conversation: {_snippet(result, 200)}")
    return _reply(view, f"I'm {view.name}. {tool} returned: {_snippet(result, 160)}")


def _memory_pass(view: _View) -> Optional[Decision]:
    label = view.memory_label()
    lines = [line for line in view.latest_input.splitlines() if line.strip()]
    summary = _snippet(lines[-1] if lines else view.latest_input, 120)
    if label and view.offers("memory_insert"):
        return Decision(
            reasoning=f"{view.name} files a note into '{label}'.",
            tool="memory_insert",
            arguments={"label": label, "new_str": f"- {summary}", "insert_line": -1, "request_heartbeat": True},
        )
    if view.offers("store_memories"):
        return Decision(
            reasoning=f"{view.name} stores a summary of the conversation.",
            tool="store_memories",
            arguments={
                "chunks": [{"start_index": 0, "end_index": max(0, len(lines) - 1), "context": summary}],
                "context": summary,
                "request_heartbeat": True,
            },
        )
    for finish in FINISH_TOOLS:
        if view.offers(finish):
            return Decision(reasoning=f"{view.name} has nothing to edit.", tool=finish, arguments={})
    return None


def _handoff(view: _View) -> Optional[Decision]:
    """A swarm handoff the latest user message asks for (see HANDOFF_PHRASES), to a colleague not handed to yet."""
    schema = next((t for t in view.request.tools if t.get("name") == HANDOFF), {})
    colleagues = (((schema.get("parameters") or {}).get("properties") or {}).get("agent_name") or {}).get("enum") or []
    index = view.user_message_index()
    text = _content_text(view.request.messages[index]) if index is not None else ""
    done = view.handed_off_since_user_message()
    mentions: list[tuple[int, str]] = []
    for colleague in colleagues:
        name = re.escape(str(colleague)) + r"(?![\w-])"
        found = [m.start() for p in HANDOFF_PHRASES for m in re.finditer(p.format(name=name), text, re.IGNORECASE)]
        if found and str(colleague).casefold() not in done:
            mentions.append((min(found), str(colleague)))
    if not mentions:
        return None
    target = min(mentions)[1]
    return Decision(
        reasoning=f"{view.name} hands the conversation to {target}.",
        tool=HANDOFF,
        arguments={"agent_name": target, "message": f"The user asks: {_snippet(text, 200)}"},
    )


def _fresh_input(view: _View) -> Decision:
    lowered = view.latest_input.lower()
    if view.offers(BROADCAST) and not view.called_since_input(BROADCAST):
        return Decision(
            reasoning=f"{view.name} asks every agent of the group first.",
            tool=BROADCAST,
            arguments={"message": _snippet(view.latest_input, 400) or "Hello, everyone."},
        )
    handoff = _handoff(view) if view.offers(HANDOFF) else None
    if handoff is not None:
        return handoff
    if not view.offers("send_message"):
        decision = _memory_pass(view)
        if decision is not None:
            return decision
    options = _OPTIONS_RE.search(view.latest_input)
    if options and view.offers("send_message"):
        return _choose_speaker(view, options.group(1))
    if "remember" in lowered and view.offers("core_memory_append"):
        label = view.memory_label()
        if label:
            return Decision(
                reasoning=f"{view.name} commits this to memory.",
                tool="core_memory_append",
                arguments={"label": label, "content": _snippet(view.latest_input, 200), "request_heartbeat": True},
            )
    search = _SEARCH_RE.search(view.latest_input)
    if search and view.offers("conversation_search"):
        return Decision(
            reasoning=f"{view.name} looks through the conversation.",
            tool="conversation_search",
            arguments={"query": search.group(1), "request_heartbeat": True},
        )
    if search and view.offers("search_memory"):
        return Decision(
            reasoning=f"{view.name} searches its memory.",
            tool="search_memory",
            arguments={"convo_keyword_queries": [search.group(1)], "request_heartbeat": True},
        )
    return _reply(view, _greeting(view))


def _fit_to_offer(view: _View, decision: Decision) -> Decision:
    """Keep within the offered tools: fall back to send_message, else the forced/first tool with simple args."""
    if decision.tool is None or view.offers(decision.tool):
        return decision
    if view.offers("send_message"):
        return _reply(view, _greeting(view))
    fallback = view.forced or (view.offered[0] if view.offered else None)
    if fallback is None:
        return Decision(reasoning=decision.reasoning)
    schema = next((t for t in view.request.tools if t.get("name") == fallback), {})
    required = (schema.get("parameters") or {}).get("required") or []
    properties = (schema.get("parameters") or {}).get("properties") or {}
    args: dict[str, Any] = {}
    for arg in required:
        kind = str((properties.get(arg) or {}).get("type") or "string")
        defaults: dict[str, Any] = {"boolean": False, "integer": 0, "array": [], "object": {}}
        args[arg] = defaults.get(kind, _snippet(view.latest_input, 80))
    return Decision(reasoning=decision.reasoning, tool=fallback, arguments=args)


def decide(request: ChatRequest) -> Decision:
    view = _View(request)
    if request.tool_choice == "none" or not view.offered:
        return Decision(reasoning=f"{view.name} thinks about '{_snippet(view.latest_input, 60)}'.")
    tool = view.tool_of_last_result()
    decision = _after_tool(view, tool) if tool else _fresh_input(view)
    return _fit_to_offer(view, decision)
