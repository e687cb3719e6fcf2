"""The data of each SSE frame, exactly as the contract's §6 shapes it."""

from __future__ import annotations

import json
from typing import Any

from ..models.messages import LettaMessageBase, LettaUsageStatistics, dump_message

DONE = "[DONE]"
INTERNAL_ERROR = {"error": "Stream failed (internal error occurred)"}


def compact(payload: dict[str, Any]) -> str:
    """Compact JSON, non-ASCII escaped as \\uXXXX (what 0.7.7's json.dumps produced)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True)


def message_frame(message: LettaMessageBase) -> str:
    return compact(dump_message(message))


def delta_frame(payload: dict[str, Any]) -> str:
    return compact({k: v for k, v in payload.items() if not (payload.get("message_type") == "tool_call_message" and v is None)})


def usage_frame(usage: LettaUsageStatistics) -> str:
    """The usage event: the model's fields in order, without `steps_messages` (never in the SSE usage event, §6.3)."""
    return compact(usage.model_dump(exclude={"steps_messages"}))


def error_frame(detail: str | None = None, code: str | None = None) -> str:
    """In-run failures (§6.4): rate limits, context overflows and unreachable configured models say what happened;
    anything else is generic."""
    if detail and code in ("rate_limit_exceeded", "context_window_exceeded", "model_unavailable"):
        return compact({"error": f"Stream failed: {detail}", "code": code})
    return compact(INTERNAL_ERROR)


def sse(seq: int | None, data: str) -> bytes:
    """One SSE event: `id: <seq>` (when the frame is in the run's log) and the data, then a blank line.

    Frames are single-line (compact JSON escapes newlines); a multi-line payload would still be framed
    correctly, one `data:` line per line (SSE ends lines at CR, LF or CRLF), which clients join back with LF.
    """
    head = f"id: {seq}\n" if seq is not None else ""
    body = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"{head}{body}\n".encode()


KEEPALIVE = b": keep-alive\n\n"
