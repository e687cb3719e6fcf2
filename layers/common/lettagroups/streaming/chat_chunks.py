"""The voice route's wire format: a run's frames as OpenAI `chat.completion.chunk` events (and a whole run as one
`chat.completion`), so OpenAI-style voice clients can talk to a voice agent.

Only what the agent says reaches the client: `assistant_message` frames (whole in step mode, deltas in token mode)
become `delta.content`; reasoning and tool traffic stay server-side; the usage frame becomes the last chunk (with
`finish_reason: "stop"` and OpenAI's `usage`); a run's error frame becomes OpenAI's `{"error": {...}}` event; the
stream ends with `data: [DONE]`.
"""

from __future__ import annotations

import json
import time
from typing import Any, Optional

from .frames import DONE, compact


class ChunkWriter:
    """Renders one run's frames as chat-completion chunk events, in order."""

    def __init__(self, run_id: str, model: str) -> None:
        self.id = f"chatcmpl-{run_id}"
        self.model = model
        self.created = int(time.time())
        self.started = False

    def _chunk(self, delta: dict[str, Any], finish_reason: Optional[str] = None, usage: Optional[dict[str, int]] = None) -> bytes:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        if usage is not None:
            body["usage"] = usage
        return f"data: {compact(body)}\n\n".encode()

    def render(self, seq: Optional[int], data: str) -> Optional[bytes]:
        """One frame of the run's log as chunk bytes (None: nothing for the client)."""
        if data == DONE:
            return b"data: [DONE]\n\n"
        try:
            frame = json.loads(data)
        except ValueError:
            return None
        if not isinstance(frame, dict):
            return None
        if "error" in frame:
            error = {"message": str(frame["error"]), "type": "server_error", "code": frame.get("code")}
            return f"data: {compact({'error': error})}\n\n".encode()
        kind = frame.get("message_type")
        if kind == "assistant_message":
            content = frame.get("content")
            text = content if isinstance(content, str) else "".join(str(p.get("text", "")) for p in content or [])
            delta: dict[str, Any] = {"content": text}
            if not self.started:
                delta = {"role": "assistant", **delta}
                self.started = True
            return self._chunk(delta)
        if kind == "usage_statistics":
            usage = {k: int(frame.get(k) or 0) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
            return self._chunk({}, finish_reason="stop", usage=usage)
        return None


def completion(run_id: str, model: str, text: str, usage: dict[str, int]) -> dict[str, Any]:
    """A whole answer as one `chat.completion` (a request that did not ask to stream)."""
    return {
        "id": f"chatcmpl-{run_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage,
    }
