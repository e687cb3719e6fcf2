"""A real OpenAI-compatible HTTP server on a loopback socket, scripted per test (provider, packaged and local-server tests).

Each request pops the next behaviour from `server.script` (or answers with a send_message tool call):
- `{"status": int, "json": dict, "headers": dict}`: a plain JSON answer;
- `{"sse": [dict | str, ...]}`: a streamed answer, one `data:` event per item, then `data: [DONE]`;
- `{"sleep": seconds, ...}`: wait before answering (timeouts).
Every request body, its headers and the client's address (one per connection) are recorded in `server.requests`; `server.tool_call_answer(name, args)` builds a
scripted tool-call answer.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def tool_call_answer(name: str, arguments: dict[str, Any], content: str | None = None) -> dict[str, Any]:
    return {
        "status": 200,
        "json": {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "tool_calls": [
                            {"id": "call_abc", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
                        ],
                    },
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132},
        },
    }


class FakeOpenAI:
    tool_call_answer = staticmethod(tool_call_answer)

    def __init__(self) -> None:
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {"path": self.path, "body": body, "headers": dict(self.headers), "client": self.client_address}
                )
                behaviour = fake.script.pop(0) if fake.script else tool_call_answer("send_message", {"message": "default"})
                try:
                    if behaviour.get("sleep"):
                        time.sleep(behaviour["sleep"])
                    if "sse" in behaviour:
                        self._sse(behaviour["sse"])
                    else:
                        self._json(behaviour.get("status", 200), behaviour.get("json", {}), behaviour.get("headers", {}))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, events: list[Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for event in [*events, "[DONE]"]:
                    text = event if isinstance(event, str) else json.dumps(event)
                    frame = f"data: {text}\n\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
