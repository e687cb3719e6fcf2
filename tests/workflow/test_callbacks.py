"""Async sends with a callback_url: the finished Run is POSTed to it once (contract §12a)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from lettagroups.logic import group_messages, runs
from lettagroups.models.identity import Actor
from lettagroups.models.messages import LettaAsyncRequest

from support.builders import make_agent, make_group


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("content-length", "0"))
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_async_send_posts_the_finished_run_to_its_callback(run_env: Actor):
    # Given a receiver on loopback and a group
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    actor = run_env
    group_id = make_group(actor, [make_agent(actor, "fred"), make_agent(actor, "velma")])
    request = LettaAsyncRequest.model_validate(
        {"messages": [{"role": "user", "content": "hi"}], "callback_url": f"http://127.0.0.1:{server.server_port}/done"}
    )
    try:
        # When a message is sent asynchronously with that callback
        run = group_messages.send_message_async(actor, group_id, request)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not runs.retrieve_run(actor, run.id).callback_sent_at:
            time.sleep(0.1)
        finished = runs.retrieve_run(actor, run.id)
    finally:
        server.shutdown()
    # Then the receiver got the completed run exactly once, and the run records the delivery
    assert [(r["id"], r["status"]) for r in _Receiver.received] == [(run.id, "completed")]
    assert finished.callback_status_code == 204
    assert finished.callback_sent_at is not None
