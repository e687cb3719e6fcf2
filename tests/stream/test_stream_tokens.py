"""Token streaming (stream_tokens=true) with the offline model: incremental chunks that reassemble into exactly
the stored messages (contract §6, token streaming)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx

from support.sse import DONE, open_stream, read_sse, send_body
from support.trackers import Objects
from support.transcripts import transcript_http

TEXT_FIELD = {"reasoning_message": "reasoning", "assistant_message": "content"}


def _reassemble(messages: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(id, message_type) -> {text, chunks, otids, names, tool_call}: the client-side reassembly of token chunks."""
    out: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"text": "", "chunks": 0, "otids": set(), "names": set()})
    for m in messages:
        entry = out[(m["id"], m["message_type"])]
        entry["chunks"] += 1
        entry["otids"].add(m.get("otid"))
        entry["names"].add(m.get("name"))
        if m["message_type"] in TEXT_FIELD:
            entry["text"] += m[TEXT_FIELD[m["message_type"]]]
        elif m["message_type"] == "tool_call_message":
            call = entry.setdefault("tool_call", {"name": "", "arguments": "", "tool_call_id": None})
            call["name"] += m["tool_call"].get("name", "")
            call["arguments"] += m["tool_call"].get("arguments", "")
            call["tool_call_id"] = call["tool_call_id"] or m["tool_call"].get("tool_call_id")
        else:
            entry["whole"] = m
    return out


def test_token_chunks_concatenate_to_the_stored_messages(http: httpx.Client, objects: Objects) -> None:
    # Given a two-agent round robin
    agents = [objects.agent("fred"), objects.agent("velma")]
    group = objects.group([a["id"] for a in agents])
    # When streaming with stream_tokens=true
    with open_stream(http, group["id"], send_body("tell me something", stream_tokens=True)) as response:
        stream = read_sse(response.iter_raw())
    assert stream.events[-1].data == DONE
    assert stream.events[-2].json["message_type"] == "usage_statistics"
    chunks = stream.messages
    parts = _reassemble(chunks)
    # Then there are many more chunks than messages, each (id, type) split into several increments
    assert len(parts) == 4
    assert len(chunks) >= 3 * len(parts)
    assert all(p["chunks"] >= 2 for p in parts.values())
    # and every reassembled text is exactly the stored message (same id, same otid, same name)
    stored = {(m["id"], m["message_type"]): m for m in transcript_http(http, group["id"])}
    for key, part in parts.items():
        assert key in stored, f"streamed {key} is not in the transcript"
        message = stored[key]
        assert part["text"] == message[TEXT_FIELD[key[1]]]
        assert part["otids"] == {message["otid"]}
        assert part["names"] == {message["name"]}
    # in speaker order: fred's reasoning and reply, then velma's
    order = list(dict.fromkeys((m["name"], m["message_type"]) for m in chunks))
    assert order == [
        ("fred", "reasoning_message"),
        ("fred", "assistant_message"),
        ("velma", "reasoning_message"),
        ("velma", "assistant_message"),
    ]


def test_tool_call_deltas_reassemble_and_tool_returns_stay_whole(http: httpx.Client, objects: Objects) -> None:
    # Given a supervisor with one worker (its first step calls the broadcast tool)
    boss = objects.agent("boss")
    worker = objects.agent("worker")
    group = objects.group([worker["id"]], manager_config={"manager_type": "supervisor", "manager_agent_id": boss["id"]})
    # When streaming with stream_tokens=true
    with open_stream(http, group["id"], send_body("ask the team", stream_tokens=True)) as response:
        stream = read_sse(response.iter_raw())
    parts = _reassemble(stream.messages)
    stored = {(m["id"], m["message_type"]): m for m in transcript_http(http, group["id"])}
    # Then the tool call's name / id / argument fragments add up to the stored call
    [(call_key, call_part)] = [(k, p) for k, p in parts.items() if k[1] == "tool_call_message"]
    assert call_part["chunks"] >= 2
    assert call_part["tool_call"] == stored[call_key]["tool_call"]
    # and the tool return arrives as one whole event with the raw result (not the stored envelope)
    [(return_key, return_part)] = [(k, p) for k, p in parts.items() if k[1] == "tool_return_message"]
    assert return_part["chunks"] == 1
    whole = return_part["whole"]
    assert whole["tool_call_id"] == call_part["tool_call"]["tool_call_id"]
    assert whole["tool_return"].startswith(f'["{worker["id"]} said:')
    assert return_key in stored
    # and the worker's own traffic is not streamed
    assert {n for p in parts.values() for n in p["names"]} == {"boss", "send_message_to_all_agents_in_group"}
