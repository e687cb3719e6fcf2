#!/usr/bin/env python3
"""A stand-in OpenAI-compatible model server for benchmarks and smoke runs: it answers at once.

Every `POST …/chat/completions` gets one tool call: `send_message` when the request offers it (or offers no tools),
else the first tool offered, with Letta's arguments `{"inner_thoughts": …, "message": …}`. Requests with
`"stream": true` get the same answer as OpenAI-style `chat.completion.chunk` events. `POST …/embeddings` answers
zero vectors; `GET …/models` lists `fake-model`. Both the project and the Letta 0.7.7 reference server can be pointed
at it with `llm_config={"model": "fake-model", "model_endpoint_type": "openai", "model_endpoint": <url>/v1, …}`, so a
side-by-side benchmark measures the servers and not a model.

    python scripts/fake_model.py [PORT]          # serves until interrupted
    from fake_model import FakeModel             # FakeModel().start().url -> "http://127.0.0.1:<port>/v1"
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USAGE = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}


class FakeModel:
    def __init__(self, port: int = 0) -> None:
        self.calls = itertools.count(1)
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json({"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "bench"}]})
                else:
                    self._json({"error": {"message": "not found"}}, 404)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path.endswith("/embeddings"):
                    count = len(body["input"]) if isinstance(body.get("input"), list) else 1
                    data = [{"object": "embedding", "index": i, "embedding": [0.0] * 1536} for i in range(count)]
                    self._json({"object": "list", "data": data, "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                elif self.path.endswith("/chat/completions"):
                    model.answer(self, body)
                else:
                    self._json({"error": {"message": "not found"}}, 404)

            def _json(self, payload: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        n = next(self.calls)
        tools = [(t.get("function") or {}).get("name") for t in body.get("tools") or []]
        name = "send_message" if "send_message" in tools or not tools else tools[0]
        arguments = json.dumps({"inner_thoughts": f"thought {n}", "message": f"reply {n}"})
        call = {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function", "function": {"name": name, "arguments": arguments}}
        created = int(time.time())
        if not body.get("stream"):
            choice = {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
            }
            payload = {
                "id": f"chatcmpl-{n}",
                "object": "chat.completion",
                "created": created,
                "model": body.get("model"),
                "choices": [choice],
                "usage": USAGE,
            }
            handler._json(payload)  # type: ignore[attr-defined]
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        deltas = [
            {
                "role": "assistant",
                "tool_calls": [{"index": 0, "id": call["id"], "type": "function", "function": {"name": name, "arguments": ""}}],
            },
            {"tool_calls": [{"index": 0, "function": {"arguments": arguments}}]},
        ]
        events: list[Any] = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
        events.append({"choices": [], "usage": USAGE})
        for event in events:
            event.update(
                {"id": f"chatcmpl-{n}", "object": "chat.completion.chunk", "created": created, "model": body.get("model")}
            )
        for event in [*events, "[DONE]"]:
            frame = f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode()
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()

    def start(self) -> FakeModel:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    fake = FakeModel(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(fake.url, flush=True)
    fake.server.serve_forever()
