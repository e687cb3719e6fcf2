"""The SSE wire format, byte for byte, with raw httpx (contract §4.8, §6; X-20..X-23)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from support.shapes import MESSAGE_KEYS
from support.sse import DONE, open_stream, read_sse, send_body
from support.trackers import Objects

NON_ASCII = "héllo wörld ✓ 日本"


def _check_message_keys(payload: dict[str, Any]) -> None:
    keys = list(payload)
    if payload["message_type"] == "tool_call_message":
        # tool calls omit null keys, at every level
        assert None not in payload.values(), payload
        assert None not in payload["tool_call"].values(), payload
        assert keys == [k for k in MESSAGE_KEYS if k in payload] + ["tool_call"], keys
    else:
        assert keys[: len(MESSAGE_KEYS)] == MESSAGE_KEYS, keys


def test_step_stream_framing_is_exact(http: httpx.Client, objects: Objects) -> None:
    # Given a two-agent round robin
    agents = [objects.agent("fred"), objects.agent("velma")]
    group = objects.group([a["id"] for a in agents])
    # When a raw client (no Accept: text/event-stream) streams non-ASCII text
    with open_stream(http, group["id"], send_body(NON_ASCII), headers={"Accept": "*/*"}) as response:
        # Then: 200, the SSE content type, chunked, and a run id to resume with
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers.get("transfer-encoding") == "chunked"
        assert response.headers["x-run-id"].startswith("run-")
        stream = read_sse(response.iter_raw())
    # every event is `id: <seq>\ndata: <payload>\n\n` with gap-free ids from 1; only comments besides
    assert stream.closed
    assert [e.id for e in stream.events] == list(range(1, len(stream.events) + 1))
    assert all(c.startswith(b": ") for c in stream.comments)
    # the body is pure ASCII: non-ASCII is escaped as \uXXXX (ensure_ascii), the JSON compact
    assert max(stream.raw) < 128
    assert "h\\u00e9llo w\\u00f6rld \\u2713 \\u65e5\\u672c" in stream.raw.decode("ascii")
    for event in stream.events:
        if not event.is_done:
            assert event.data == json.dumps(json.loads(event.data), separators=(",", ":"), ensure_ascii=True)
    # message events: key order id, date, name, message_type, otid, sender_id, step_id, then the type's fields
    for message in stream.messages:
        _check_message_keys(message)
        assert message["sender_id"] is None and message["step_id"] is None  # live messages
        assert len(message["date"]) == 25 and message["date"].endswith("+00:00")  # seconds, UTC
    assert [(m["name"], m["message_type"]) for m in stream.messages] == [
        ("fred", "reasoning_message"),
        ("fred", "assistant_message"),
        ("velma", "reasoning_message"),
        ("velma", "assistant_message"),
    ]
    # the last two events are usage then [DONE], and the connection closes after it
    *_, usage, done = stream.events
    assert done.data == DONE
    assert list(usage.json) == ["message_type", "completion_tokens", "prompt_tokens", "total_tokens", "step_count", "run_ids"]
    assert usage.json["message_type"] == "usage_statistics" and usage.json["step_count"] == 2
    assert stream.raw.endswith(f"id: {done.id}\ndata: [DONE]\n\n".encode())


def test_no_input_echo_and_tool_calls_without_null_keys(http: httpx.Client, objects: Objects) -> None:
    # Given a supervisor group (its stream carries a tool call and a tool return)
    boss = objects.agent("boss")
    worker = objects.agent("worker")
    group = objects.group([worker["id"]], manager_config={"manager_type": "supervisor", "manager_agent_id": boss["id"]})
    for stream_tokens in (False, True):
        # When a raw client streams a user message (step mode, then token mode)
        with open_stream(http, group["id"], send_body("a question", stream_tokens=stream_tokens)) as response:
            stream = read_sse(response.iter_raw())
        # Then no user/system input is echoed and tool calls carry no null keys at any depth
        kinds = [m["message_type"] for m in stream.messages]
        assert "user_message" not in kinds and "system_message" not in kinds
        calls = [m for m in stream.messages if m["message_type"] == "tool_call_message"]
        assert calls, kinds
        for message in stream.messages:
            _check_message_keys(message)
        if stream_tokens:
            # the first delta names the tool; later ones carry only argument fragments
            assert set(calls[0]["tool_call"]) == {"name", "tool_call_id"}
            assert all(set(c["tool_call"]) == {"arguments"} for c in calls[1:])
        assert stream.events[-1].data == DONE


def test_unknown_group_is_a_404_json_before_any_sse(http: httpx.Client) -> None:
    # Given no such group, When streaming to it
    response = http.post("/v1/groups/group-nope/messages/stream", json=send_body())
    # Then a plain JSON 404, no event stream
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Group not found with id=group-nope"}


def test_pre_run_failures_are_json_errors(http: httpx.Client, objects: Objects) -> None:
    # Given an empty group and a real one
    empty = objects.group([])
    group = objects.group([objects.agent("solo")["id"]])
    url = f"/v1/groups/{group['id']}/messages/stream"
    cases = [
        # (when: the request, then: status and detail)
        (http.post(f"/v1/groups/{empty['id']}/messages/stream", json=send_body()), 400, "Empty group"),
        (http.post(url, json={"messages": [{"role": "assistant", "content": "x"}]}), 400, "Invalid message role"),
        (http.post(url, json={"messages": [{"role": "user", "content": ""}]}), 400, "Message content is empty"),
        (http.post(url, content=b""), 422, "Field required"),
        (http.post(url, content=b"{not json"), 422, "JSON decode error"),
        (http.post(url, json={"messages": "nope"}), 422, None),
        (http.post(url, json=[1, 2]), 422, "valid dictionary"),
    ]
    for response, status, detail in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        if status == 422:
            assert isinstance(body["detail"], list) and {"loc", "msg", "type"} <= set(body["detail"][0])
            assert body["detail"][0]["loc"][0] == "body"
        if detail:
            assert detail in json.dumps(body), body


def test_in_run_failure_is_an_error_event_then_done(http: httpx.Client, objects: Objects) -> None:
    # Given a round robin whose second agent's model fails with a non-retryable error
    ok = objects.agent("steady")
    bad = objects.agent("broken", model="fail=bad_request")
    group = objects.group([ok["id"], bad["id"]])
    # When streaming
    with open_stream(http, group["id"], send_body()) as response:
        assert response.status_code == 200  # the status stays 200
        stream = read_sse(response.iter_raw())
    # Then the messages so far, the generic error (replacing the usage event), [DONE], and the close
    assert [(m["name"], m["message_type"]) for m in stream.messages] == [
        ("steady", "reasoning_message"),
        ("steady", "assistant_message"),
    ]
    assert [e.data for e in stream.events[-2:]] == ['{"error":"Stream failed (internal error occurred)"}', DONE]
    assert not any(p.get("message_type") == "usage_statistics" for p in stream.payloads)
    assert stream.closed
    run = http.get(f"/v1/runs/{response.headers['x-run-id']}").json()
    assert run["status"] == "failed"


def test_context_window_failure_says_what_happened(http: httpx.Client, objects: Objects) -> None:
    # Given an agent whose model reports a context-window overflow
    agent = objects.agent("overflowing", model="fail=context")
    group = objects.group([agent["id"]])
    # When streaming
    with open_stream(http, group["id"], send_body()) as response:
        stream = read_sse(response.iter_raw())
    # Then the error event names the cause and carries its code (§6.4), then [DONE]
    error = stream.events[-2].json
    assert list(error) == ["error", "code"]
    assert error["code"] == "context_window_exceeded"
    assert error["error"].startswith("Stream failed: ") and "context" in error["error"]
    assert stream.events[-1].data == DONE


def test_connection_closes_right_after_done(http: httpx.Client, objects: Objects) -> None:
    # Given a one-agent group
    group = objects.group([objects.agent("quick")["id"]])
    # When the client reads until the server closes the connection
    with open_stream(http, group["id"], send_body()) as response:
        stream = read_sse(response.iter_raw())
        closed_at = time.monotonic()
    # Then nothing follows [DONE] and the close is immediate (letta-client reads until the close)
    assert stream.events[-1].data == DONE
    assert closed_at - stream.events[-1].received_at < 0.5


def test_run_stream_errors(http: httpx.Client, objects: Objects) -> None:
    # Given an unknown run, When its stream is asked for, Then 404 JSON
    response = http.get("/v1/runs/run-nope/stream")
    assert response.status_code == 404 and response.json()["detail"].startswith("Run not found")
    # Given a finished run, When the cursor is not a non-negative integer, Then 422 naming where it came from
    group = objects.group([objects.agent("cursor")["id"]])
    with open_stream(http, group["id"], send_body()) as stream_response:
        run_id = stream_response.headers["x-run-id"]
        read_sse(stream_response.iter_raw())
    for response, loc in (
        (http.get(f"/v1/runs/{run_id}/stream", params={"starting_after": "-1"}), ["query", "starting_after"]),
        (http.get(f"/v1/runs/{run_id}/stream", params={"starting_after": "x"}), ["query", "starting_after"]),
        (http.get(f"/v1/runs/{run_id}/stream", headers={"Last-Event-ID": "abc"}), ["header", "Last-Event-ID"]),
        (http.post(f"/v1/runs/{run_id}/stream", json={"starting_after": "x"}), ["body", "starting_after"]),
        (http.post(f"/v1/runs/{run_id}/stream", json={"starting_after": True}), ["body", "starting_after"]),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == loc


def test_an_over_long_idempotency_key_is_refused_as_the_rest_sends_refuse_it(http: httpx.Client, objects: Objects) -> None:
    # Given a group, and an Idempotency-Key one character over the limit
    group = objects.group([objects.agent("solo")["id"]])
    key = "k" * 201
    # When a stream and a sync send carry it
    streamed = http.post(f"/v1/groups/{group['id']}/messages/stream", json=send_body(), headers={"Idempotency-Key": key})
    synced = http.post(f"/v1/groups/{group['id']}/messages", json=send_body(), headers={"Idempotency-Key": key})
    # Then both answer the same 422 before anything runs
    assert streamed.status_code == synced.status_code == 422
    assert streamed.json() == synced.json()
    assert streamed.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    assert http.get(f"/v1/groups/{group['id']}/messages").json() == []
