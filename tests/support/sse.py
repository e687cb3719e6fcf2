"""The SSE wire over raw HTTP: a strict reader of what a stream carried, and the group stream route's request."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

import httpx

DONE = "[DONE]"
# Exactly what contract §6 allows for one event: an optional `id: <seq>` line, one `data:` line, a blank line.
EVENT_RE = re.compile(rb"^(?:id: (?P<id>[0-9]+)\n)?data: (?P<data>[^\n]*)\n$")
COMMENT_RE = re.compile(rb"^(?::[^\n]*\n)+$")


@dataclass
class Event:
    id: Optional[int]
    data: str
    received_at: float = 0.0

    @property
    def json(self) -> Any:
        return json.loads(self.data)

    @property
    def is_done(self) -> bool:
        return self.data == DONE


@dataclass
class Stream:
    """What one SSE response carried: data events in order, comment blocks, and when each event arrived."""

    events: list[Event] = field(default_factory=list)
    comments: list[bytes] = field(default_factory=list)
    raw: bytes = b""
    closed: bool = False

    @property
    def payloads(self) -> list[Any]:
        return [e.json for e in self.events if not e.is_done]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [
            p for p in self.payloads if isinstance(p, dict) and "message_type" in p and p["message_type"] != "usage_statistics"
        ]


def parse_blocks(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Split complete SSE blocks (each ends with a blank line) from the rest of the buffer."""
    blocks = []
    while b"\n\n" in buffer:
        block, buffer = buffer.split(b"\n\n", 1)
        blocks.append(block + b"\n")
    return blocks, buffer


def read_sse(chunks: Iterable[bytes], *, stop_after: Optional[int] = None, strict: bool = True) -> Stream:
    """Read SSE bytes until the connection closes (or `stop_after` data events), checking the framing strictly."""
    stream = Stream()
    buffer = b""
    for chunk in chunks:
        stream.raw += chunk
        buffer += chunk
        blocks, buffer = parse_blocks(buffer)
        now = time.monotonic()
        for block in blocks:
            if COMMENT_RE.match(block):
                stream.comments.append(block)
                continue
            match = EVENT_RE.match(block)
            if strict:
                assert match, f"malformed SSE event: {block!r}"
            elif not match:
                continue
            seq = match.group("id")
            stream.events.append(Event(int(seq) if seq else None, match.group("data").decode("ascii"), now))
            if stop_after is not None and len(stream.events) >= stop_after:
                return stream
    assert buffer == b"", f"the stream ended inside an event: {buffer!r}"
    stream.closed = True
    return stream


def collapse(messages: list[dict[str, Any]]) -> list[tuple[Optional[str], str]]:
    """(name, message_type) per logical message: token-mode chunks of one (id, type) count once."""
    out: list[tuple[Optional[str], str]] = []
    seen: list[tuple[str, str]] = []
    for m in messages:
        key = (m["id"], m["message_type"])
        if seen and seen[-1] == key:
            continue
        seen.append(key)
        out.append((m.get("name"), m["message_type"]))
    return out


def send_body(text: str = "hello there", *, stream_tokens: bool = False) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], "stream_tokens": stream_tokens}


def open_stream(http: httpx.Client, group_id: str, body: dict[str, Any], **kwargs: Any) -> Iterator[httpx.Response]:
    """`with` helper over http.stream for the group stream route."""
    return http.stream("POST", f"/v1/groups/{group_id}/messages/stream", json=body, **kwargs)  # type: ignore[return-value]
