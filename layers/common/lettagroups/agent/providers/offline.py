"""The built-in offline model: deterministic answers (see `offline_policy`), no network, optional faults
(see `offline_faults`). It streams its answer in small deltas when asked, so token streaming is testable offline."""

from __future__ import annotations

import json
import uuid
from typing import Any, Optional

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
        if on_delta is not None:
            _stream(decision.reasoning, calls, on_delta)
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


def _stream(reasoning: str, calls: list[ToolCallOut], on_delta: DeltaCallback) -> None:
    words = reasoning.split(" ")
    for i in range(0, len(words), 3):
        piece = " ".join(words[i : i + 3])
        on_delta(ProviderDelta(kind="text", text=piece if i == 0 else " " + piece))
    for index, call in enumerate(calls):
        on_delta(ProviderDelta(kind="tool_call", index=index, call_id=call.id, name=call.name))
        for start in range(0, len(call.arguments), ARGUMENT_CHUNK):
            on_delta(ProviderDelta(kind="tool_call", index=index, arguments=call.arguments[start : start + ARGUMENT_CHUNK]))
