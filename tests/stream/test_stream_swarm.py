"""A swarm handoff on the SSE wire (contract §6, swarm-handoffs.md): every speaking agent streams, in order, and the
token chunks reassemble into exactly the stored messages; a stream that fails at the receiver ends with the error
frame and [DONE] after the caller's complete handoff."""

from __future__ import annotations

import json

import httpx
import pytest

from support.sse import DONE, collapse, open_stream, read_sse, send_body
from support.swarm import handed_off
from support.trackers import Objects
from support.transcripts import transcript_http

HANDED_OFF = [(name, message_type) for message_type, name in handed_off("fred", "velma")]  # as `collapse` pairs them


@pytest.mark.parametrize("stream_tokens", [False, True], ids=["steps", "tokens"])
def test_a_handoff_streams_both_speakers(http: httpx.Client, objects: Objects, stream_tokens: bool) -> None:
    # Given fred and velma in a swarm group
    agents = [objects.agent("fred"), objects.agent("velma")]
    group = objects.group([a["id"] for a in agents], manager_config={"manager_type": "swarm"})
    # When the user streams a message asking fred to hand over to velma
    with open_stream(http, group["id"], send_body("Hand over to velma, please.", stream_tokens=stream_tokens)) as response:
        assert response.status_code == 200
        run_id = response.headers["x-run-id"]
        stream = read_sse(response.iter_raw())
    # Then fred's handoff and velma's reply stream in order, then usage (two turns) and [DONE]
    assert stream.events[-1].data == DONE
    usage = stream.events[-2].json
    assert usage["message_type"] == "usage_statistics" and usage["step_count"] == 2
    assert collapse(stream.messages) == HANDED_OFF
    # And each streamed (id, type) is a stored message: chunks add up to its text, with its otid
    stored = {(m["id"], m["message_type"]): m for m in transcript_http(http, group["id"])}
    texts: dict[tuple[str, str], str] = {}
    for m in stream.messages:
        key = (m["id"], m["message_type"])
        assert key in stored, key
        field = {"reasoning_message": "reasoning", "assistant_message": "content"}.get(m["message_type"])
        if field:
            texts[key] = texts.get(key, "") + m[field]
            assert m["otid"] == stored[key]["otid"]
    for key, text in texts.items():
        assert text == stored[key]["reasoning" if key[1] == "reasoning_message" else "content"]
    calls = [m for m in stream.messages if m["message_type"] == "tool_call_message"]
    assert (len(calls) > 1) == stream_tokens
    assert json.loads("".join(c["tool_call"].get("arguments") or "" for c in calls))["agent_name"] == "velma"
    assert http.get(f"/v1/groups/{group['id']}").json()["active_agent_id"] == agents[1]["id"]
    # And the run's stream replays the same frames, and its record and messages say the same
    with http.stream("GET", f"/v1/runs/{run_id}/stream") as replay:
        assert [e.data for e in read_sse(replay.iter_raw()).events] == [e.data for e in stream.events]
    run = http.get(f"/v1/runs/{run_id}").json()
    assert (run["status"], run["metadata"]["stop_reason"], run["metadata"]["usage"]["step_count"]) == ("completed", "end_turn", 2)
    listed = http.get(f"/v1/runs/{run_id}/messages").json()
    assert [(m["name"], m["message_type"]) for m in listed] == HANDED_OFF


def test_a_receiver_failing_mid_stream_ends_with_the_error_after_the_handoff(http: httpx.Client, objects: Objects) -> None:
    # Given a swarm where velma's model refuses every request
    agents = [objects.agent("fred"), objects.agent("velma", model="fail=bad_request")]
    group = objects.group([a["id"] for a in agents], manager_config={"manager_type": "swarm"})
    # When the user streams a message asking fred to ask velma
    with open_stream(http, group["id"], send_body("ask velma")) as response:
        stream = read_sse(response.iter_raw())
    # Then fred's whole handoff streamed, then the error frame (status 200) and [DONE]
    assert response.status_code == 200
    assert collapse(stream.messages) == HANDED_OFF[:3]
    assert stream.events[-2].json == {"error": "Stream failed (internal error occurred)"}
    assert stream.events[-1].data == DONE
    # And velma stays the active agent (the last completed step handed the conversation to her)
    assert http.get(f"/v1/groups/{group['id']}").json()["active_agent_id"] == agents[1]["id"]
