"""Fault injection for the offline model, so failure paths can be tested end to end without a network.

A fault spec is a query string; several specs are separated by `;`:

    fail=<kind>        kind: error (5xx, retryable), throttle (429, retryable), timeout (retryable),
                       bad_request (400, not retryable), context (context window exceeded, not retryable),
                       malformed (the answer's tool-call arguments are not JSON; the step re-asks once)
    on_call=<n>        only the n-th model call of one step (1-based); default: every call
    times=<k>          at most k injected failures per agent in this process, then answers normally
                       (retry tests: `fail=throttle&times=1` fails the first attempt only)
    delay_ms=<ms>      answer slowly; beyond the call's timeout this becomes a ModelTimeoutError
    agent=<name|id>    restrict the spec to one agent (by name or id)

Shorthands: `fail_on_call=2` (= fail=error&on_call=2), `throttle_on_call=N`, `timeout_on_call=N`,
`malformed_on_call=N`, `bad_request_on_call=N`; `fail=1` / `fail=true` mean `fail=error`.

Where specs come from (all apply):
- the model name: `llm_config.model = "letta-offline?fail=throttle&times=1"`;
- an extra `llm_config.offline_faults` string;
- the environment variable `LETTA_OFFLINE_FAULTS` (every agent, unless `agent=` restricts it).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import parse_qsl

from .errors import (
    ContextWindowExceededError,
    ModelBadRequestError,
    ModelError,
    ModelServerError,
    ModelTimeoutError,
    RateLimitedError,
)

ENV_VAR = "LETTA_OFFLINE_FAULTS"
KINDS = {"error", "throttle", "timeout", "bad_request", "context", "malformed"}
_SHORTHANDS = {f"{kind}_on_call": kind for kind in KINDS} | {"fail_on_call": "error"}

_lock = threading.Lock()
_injected: dict[tuple[str, str], int] = {}  # (spec, agent) -> failures injected so far in this process


@dataclass(frozen=True)
class FaultSpec:
    raw: str
    kind: Optional[str] = None
    on_call: Optional[int] = None
    times: Optional[int] = None
    delay_ms: int = 0
    agent: Optional[str] = None

    @classmethod
    def parse(cls, text: str) -> Optional[FaultSpec]:
        fields: dict[str, Any] = {}
        for name, value in parse_qsl(text.strip(), keep_blank_values=True):
            name = name.strip().lower()
            value = value.strip()
            if name in _SHORTHANDS:
                fields["kind"] = _SHORTHANDS[name]
                fields["on_call"] = int(value)
            elif name == "fail":
                fields["kind"] = "error" if value.lower() in ("1", "true", "yes", "") else value.lower()
            elif name in ("on_call", "times", "delay_ms"):
                fields[name] = int(value)
            elif name == "agent":
                fields["agent"] = value
        if not fields:
            return None
        if fields.get("kind") is not None and fields["kind"] not in KINDS:
            raise ValueError(f"unknown offline fault kind {fields['kind']!r} (one of {sorted(KINDS)})")
        return cls(raw=text.strip(), **fields)


def parse_specs(text: Optional[str]) -> list[FaultSpec]:
    specs = []
    for chunk in (text or "").split(";"):
        spec = FaultSpec.parse(chunk) if chunk.strip() else None
        if spec is not None:
            specs.append(spec)
    return specs


def specs_for(llm_config: dict[str, Any]) -> list[FaultSpec]:
    model = str(llm_config.get("model") or "")
    _, _, query = model.partition("?")
    return parse_specs(query) + parse_specs(llm_config.get("offline_faults")) + parse_specs(os.environ.get(ENV_VAR))


def reset_counters() -> None:
    """Forget the `times=` bookkeeping (tests)."""
    with _lock:
        _injected.clear()


def _error(kind: str) -> ModelError:
    message = f"offline model: injected {kind} fault"
    if kind == "throttle":
        return RateLimitedError(message, status=429, retry_after=0.0, provider="offline")
    if kind == "timeout":
        return ModelTimeoutError(message, provider="offline")
    if kind == "bad_request":
        return ModelBadRequestError(message, status=400, provider="offline")
    if kind == "context":
        return ContextWindowExceededError(message, status=400, provider="offline")
    return ModelServerError(message, status=500, provider="offline")


def apply_faults(specs: list[FaultSpec], call_number: int, *, agent_id: str, agent_name: str, timeout_s: float) -> bool:
    """Sleep or raise as the specs say for this call. Returns True when the answer must be malformed."""
    malformed = False
    for spec in specs:
        if spec.agent and spec.agent not in (agent_id, agent_name):
            continue
        if spec.delay_ms:
            delay = spec.delay_ms / 1000
            time.sleep(min(delay, timeout_s))
            if delay > timeout_s:
                raise ModelTimeoutError(f"offline model: no answer within {timeout_s:.1f}s", provider="offline")
        if spec.kind is None or (spec.on_call is not None and spec.on_call != call_number):
            continue
        if spec.times is not None:
            with _lock:
                count = _injected.get((spec.raw, agent_id), 0)
                if count >= spec.times:
                    continue
                _injected[(spec.raw, agent_id)] = count + 1
        if spec.kind == "malformed":
            malformed = True
            continue
        raise _error(spec.kind)
    return malformed
