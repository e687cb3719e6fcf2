"""Token streaming: provider deltas → incremental LettaMessage events (contract §6, token streaming).

Every event of one model call carries the id of the assistant message the step will store, so a client can
reassemble by `(id, message_type)` or `otid`. Reasoning comes from content text (or the `inner_thoughts`
argument when the provider uses Letta's inner-thoughts-in-kwargs convention); the assistant text comes from an
optimistic parse of the streaming `send_message` arguments.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Optional

from ..ids import otid_for
from ..models.messages import AssistantMessage, LettaMessageBase, ReasoningMessage, ToolCallDelta, ToolCallMessage, dump_message
from ..models.records import RequestConfig
from .providers.base import ProviderDelta

INNER_THOUGHTS = "inner_thoughts"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

EventSink = Callable[[dict[str, Any]], None]


def _scan_string(buffer: str, start: int) -> tuple[str, int, bool]:
    """Decode the JSON string starting at `buffer[start] == '"'`: (text so far, index after it, complete)."""
    out: list[str] = []
    i = start + 1
    n = len(buffer)
    while i < n:
        c = buffer[i]
        if c == '"':
            return "".join(out), i + 1, True
        if c == "\\":
            if i + 1 >= n:
                break
            e = buffer[i + 1]
            if e == "u":
                if i + 6 > n:
                    break
                try:
                    out.append(chr(int(buffer[i + 2 : i + 6], 16)))
                except ValueError:
                    pass
                i += 6
                continue
            out.append(_ESCAPES.get(e, e))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out), n, False


def partial_string_value(buffer: str, key: str) -> Optional[str]:
    """The decoded (possibly still incomplete) value of top-level string field `key` of a streaming JSON object."""
    i, n, depth = 0, len(buffer), 0
    while i < n:
        c = buffer[i]
        if c == '"':
            text, end, complete = _scan_string(buffer, i)
            if not complete:
                return None
            j = end
            while j < n and buffer[j] in " \t\r\n":
                j += 1
            if depth == 1 and j < n and buffer[j] == ":" and text == key:
                j += 1
                while j < n and buffer[j] in " \t\r\n":
                    j += 1
                if j >= n:
                    return ""
                if buffer[j] != '"':
                    return None
                return _scan_string(buffer, j)[0]
            i = end
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
        i += 1
    return None


@dataclass
class _Call:
    call_id: Optional[str] = None
    name: str = ""
    arguments: str = ""
    thoughts_sent: int = 0
    text_sent: int = 0
    announced: bool = False
    part: Optional[int] = None


class DeltaTranslator:
    """Callable given to a provider as `on_delta`; forwards LettaMessage event dicts to `sink`."""

    def __init__(
        self,
        sink: EventSink,
        *,
        message_id: str,
        agent_name: Optional[str],
        inner_thoughts_in_kwargs: bool,
        options: RequestConfig,
    ) -> None:
        self.sink = sink
        self.message_id = message_id
        self.agent_name = agent_name
        self.kwargs_mode = inner_thoughts_in_kwargs
        self.options = options
        self.date = datetime.now(UTC)
        self.reasoning_seen = False
        self.calls: dict[int, _Call] = {}

    def _base(self, part: int) -> dict[str, Any]:
        return {"id": self.message_id, "date": self.date, "name": self.agent_name, "otid": otid_for(self.message_id, part)}

    def _emit(self, message: LettaMessageBase) -> None:
        self.sink(dump_message(message))

    def _reasoning(self, text: str, native: bool = False) -> None:
        if not text:
            return
        self.reasoning_seen = True
        self._emit(ReasoningMessage(**self._base(0), reasoning=text, source="reasoner_model" if native else "non_reasoner_model"))

    def _is_assistant(self, call: _Call) -> bool:
        return self.options.use_assistant_message and call.name == self.options.assistant_message_tool_name

    def _part(self, call: _Call) -> int:
        if call.part is None:
            call.part = 1 if self.reasoning_seen else 0
        return call.part

    def __call__(self, delta: ProviderDelta) -> None:
        if delta.kind == "text":
            self._reasoning(delta.text)
            return
        if delta.kind == "reasoning":
            self._reasoning(delta.text, native=True)
            return
        call = self.calls.setdefault(delta.index, _Call())
        if delta.call_id:
            call.call_id = delta.call_id
        if delta.name:
            call.name = delta.name if not call.name or delta.name.startswith(call.name) else call.name + delta.name
        call.arguments += delta.arguments or ""
        if self.kwargs_mode:
            thoughts = partial_string_value(call.arguments, INNER_THOUGHTS)
            if thoughts is not None and len(thoughts) > call.thoughts_sent:
                self._reasoning(thoughts[call.thoughts_sent :])
                call.thoughts_sent = len(thoughts)
        if not call.name:
            return
        if self._is_assistant(call):
            text = partial_string_value(call.arguments, self.options.assistant_message_tool_kwarg)
            if text is not None and len(text) > call.text_sent:
                self._emit(AssistantMessage(**self._base(self._part(call)), content=text[call.text_sent :]))
                call.text_sent = len(text)
            return
        if self.kwargs_mode:
            return  # announced at `finish`, after the inner thoughts its arguments carry first (order and otid as stored)
        if not call.announced:
            self._announce(call)
            if call.arguments:
                self._emit(ToolCallMessage(**self._base(self._part(call)), tool_call=ToolCallDelta(arguments=call.arguments)))
            return
        if delta.arguments:
            self._emit(ToolCallMessage(**self._base(self._part(call)), tool_call=ToolCallDelta(arguments=delta.arguments)))

    def _announce(self, call: _Call) -> None:
        call.announced = True
        self._emit(
            ToolCallMessage(**self._base(self._part(call)), tool_call=ToolCallDelta(name=call.name, tool_call_id=call.call_id))
        )

    def finish(self) -> None:
        """In kwargs mode a non-message tool's call is announced now, then its arguments are sent once, whole, without
        the inner thoughts."""
        if not self.kwargs_mode:
            return
        for call in self.calls.values():
            if not call.name or self._is_assistant(call):
                continue
            try:
                args = json.loads(call.arguments or "{}")
                args.pop(INNER_THOUGHTS, None)
                arguments = json.dumps(args, ensure_ascii=False)
            except (ValueError, AttributeError):
                arguments = call.arguments
            if not call.announced:
                self._announce(call)
            self._emit(ToolCallMessage(**self._base(self._part(call)), tool_call=ToolCallDelta(arguments=arguments)))
