"""The built-in offline model: deterministic answers (see `offline_policy`), no network, optional faults
(see `offline_faults`). It streams its answer in small deltas when asked, so token streaming is testable offline.

Pacing: `delta_ms=<ms>` in the model's query string (`letta-offline?delta_ms=20`) or in `llm_config.offline_faults`
makes the model "generate" like a real one: it waits that long before each delta, whether or not anyone streams,
so step streaming and token streaming of the same answer take the same time (benchmarks, live-delivery tests)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any, Optional
from urllib.parse import parse_qsl

from .base import ChatRequest, ChatResponse, DeltaCallback, ProviderDelta, TokenUsage, ToolCallOut, estimate_tokens
from .offline_faults import apply_faults, specs_for
from .offline_policy import decide

ARGUMENT_CHUNK = 16


class OfflineProvider:
    name = "offline"
    inner_thoughts_in_kwargs = False
    supports_token_streaming = True

    def __init__(self, llm_config: Optional[dict[str, Any]] = None) -> None:
        self.llm_config = dict(llm_config or {})
        self.specs = specs_for(self.llm_config)
        self.delta_pause = _delta_pause(self.llm_config)
        self.calls = 0  # model calls made through this instance (one instance per agent step)

    def complete(self, request: ChatRequest, on_delta: Optional[DeltaCallback] = None) -> ChatResponse:
        self.calls += 1
        malformed = apply_faults(
            self.specs,
            self.calls,
            agent_id=str(request.metadata.get("agent_id") or ""),
            agent_name=str(request.metadata.get("agent_name") or ""),
            timeout_s=request.timeout_s,
        )
        decision = decide(request)
        calls = []
        if decision.tool:
            arguments = json.dumps(decision.arguments, ensure_ascii=False)
            if malformed:
                arguments = arguments[: max(1, len(arguments) // 2)]  # cut mid-way: not JSON any more
            calls.append(ToolCallOut(id=f"call_{uuid.uuid4().hex[:24]}", name=decision.tool, arguments=arguments))
        if on_delta is not None or self.delta_pause:
            for delta in _deltas(decision.reasoning, calls):
                if self.delta_pause:
                    time.sleep(self.delta_pause)
                if on_delta is not None:
                    on_delta(delta)
        completion = estimate_tokens(decision.reasoning) + sum(
            estimate_tokens(c.name) + estimate_tokens(c.arguments) for c in calls
        )
        prompt = estimate_tokens({"system": request.system, "messages": request.messages, "tools": request.tools})
        return ChatResponse(
            text=decision.reasoning,
            tool_calls=calls,
            usage=TokenUsage(prompt_tokens=prompt, completion_tokens=completion),
            finish_reason="tool_calls" if calls else "stop",
        )


def _delta_pause(llm_config: dict[str, Any]) -> float:
    """Seconds to wait before each delta (`delta_ms`), from the model's query string or `offline_faults`."""
    _, _, query = str(llm_config.get("model") or "").partition("?")
    pause = 0.0
    for text in (query, *str(llm_config.get("offline_faults") or "").split(";")):
        for name, value in parse_qsl(text.strip(), keep_blank_values=True):
            if name.strip().lower() == "delta_ms":
                try:
                    pause = max(0.0, float(value) / 1000)
                except ValueError:
                    raise ValueError(f"delta_ms must be a number of milliseconds, not {value!r}") from None
    return pause


def _deltas(reasoning: str, calls: list[ToolCallOut]) -> Iterator[ProviderDelta]:
    """The answer as a model would stream it: reasoning a few words at a time, then each call's name and arguments."""
    words = reasoning.split(" ")
    for i in range(0, len(words), 3):
        piece = " ".join(words[i : i + 3])
        yield ProviderDelta(kind="text", text=piece if i == 0 else " " + piece)
    for index, call in enumerate(calls):
        yield ProviderDelta(kind="tool_call", index=index, call_id=call.id, name=call.name)
        for start in range(0, len(call.arguments), ARGUMENT_CHUNK):
            yield ProviderDelta(kind="tool_call", index=index, arguments=call.arguments[start : start + ARGUMENT_CHUNK])
