"""Resumable streams (contract §6.8, §12a): GET|POST /v1/runs/{run_id}/stream with Last-Event-ID or
starting_after, and a run that goes on when its client leaves; and frames that arrive while the run is running."""

from __future__ import annotations

import time

import httpx

from support.runs import wait_for_run_http
from support.sse import DONE, open_stream, read_sse, send_body
from support.trackers import Objects
from support.transcripts import transcript_http

K = 2


def _slow_group(objects: Objects, delay_ms: int = 600) -> tuple[dict, list[dict]]:
    agents = [
        objects.agent("quick"),
        objects.agent("slow-1", model=f"delay_ms={delay_ms}"),
        objects.agent("slow-2", model=f"delay_ms={delay_ms}"),
    ]
    return objects.group([a["id"] for a in agents]), agents


def test_resume_after_a_dropped_connection_gets_everything_after_k_exactly_once(http: httpx.Client, objects: Objects) -> None:
    # Given a round robin whose later speakers are slow, streamed by a client that reads K frames and hangs up
    group, agents = _slow_group(objects)
    with open_stream(http, group["id"], send_body()) as response:
        run_id = response.headers["x-run-id"]
        first = read_sse(response.iter_raw(), stop_after=K)
    assert [e.id for e in first.events] == [1, 2]
    assert http.get(f"/v1/runs/{run_id}").json()["status"] == "running"  # we left mid-run

    # When it reconnects three ways: Last-Event-ID (at once, so it follows the live run), ?starting_after, POST body
    resumed = {}
    with http.stream("GET", f"/v1/runs/{run_id}/stream", headers={"Last-Event-ID": str(K)}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        resumed["last-event-id"] = read_sse(response.iter_raw())
    with http.stream("GET", f"/v1/runs/{run_id}/stream", params={"starting_after": K}) as response:
        resumed["query"] = read_sse(response.iter_raw())
    with http.stream("POST", f"/v1/runs/{run_id}/stream", json={"starting_after": K}) as response:
        resumed["body"] = read_sse(response.iter_raw())
    with http.stream("GET", f"/v1/runs/{run_id}/stream") as response:
        full = read_sse(response.iter_raw())

    # Then each gets every frame after K exactly once, in order, ending with [DONE]; nothing lost or repeated
    assert [e.id for e in full.events] == list(range(1, len(full.events) + 1))
    assert full.events[-1].data == DONE
    assert [(e.id, e.data) for e in first.events] == [(e.id, e.data) for e in full.events[:K]]
    for how, stream in resumed.items():
        assert [(e.id, e.data) for e in stream.events] == [(e.id, e.data) for e in full.events[K:]], how
        assert stream.closed, how
    # and the whole run is there: three speakers, usage, [DONE]
    names = [m["name"] for m in full.messages]
    assert names == ["quick", "quick", "slow-1", "slow-1", "slow-2", "slow-2"]
    assert full.events[-2].json["step_count"] == 3


def test_a_client_that_disconnects_does_not_stop_the_run(http: httpx.Client, objects: Objects) -> None:
    # Given a slow round robin, When the client hangs up after the first frame
    group, agents = _slow_group(objects, delay_ms=400)
    with open_stream(http, group["id"], send_body("are you there?")) as response:
        run_id = response.headers["x-run-id"]
        read_sse(response.iter_raw(), stop_after=1)
    # Then the run still completes, and the transcript holds the input and every speaker's messages
    run = wait_for_run_http(http, run_id)
    assert run["status"] == "completed"
    messages = transcript_http(http, group["id"])
    assert [m["content"] for m in messages if m["message_type"] == "user_message"] == ["are you there?"]
    replies = [m["name"] for m in messages if m["message_type"] == "assistant_message"]
    assert replies == ["quick", "slow-1", "slow-2"]
    # and its stream can still be read in full afterwards
    with http.stream("GET", f"/v1/runs/{run_id}/stream") as replay:
        stream = read_sse(replay.iter_raw())
    assert [m["name"] for m in stream.messages if m["message_type"] == "assistant_message"] == replies


def test_resuming_a_finished_run_past_its_end_returns_nothing_but_closes(http: httpx.Client, objects: Objects) -> None:
    # Given a finished run with N frames
    group = objects.group([objects.agent("once")["id"]])
    with open_stream(http, group["id"], send_body()) as response:
        run_id = response.headers["x-run-id"]
        stream = read_sse(response.iter_raw())
    n = stream.events[-1].id
    assert n is not None
    # When resuming after its last frame (and with Last-Event-ID later than starting_after: the later one wins)
    started = time.monotonic()
    with http.stream(
        "GET", f"/v1/runs/{run_id}/stream", params={"starting_after": 1}, headers={"Last-Event-ID": str(n)}
    ) as response:
        after_end = read_sse(response.iter_raw())
    # Then no data events, and the stream closes at once instead of waiting for frames that never come
    # (the client already has [DONE]; resuming from the id before it gets [DONE] again)
    assert response.status_code == 200
    assert after_end.events == [] and after_end.closed
    assert time.monotonic() - started < 1.0
    with http.stream("GET", f"/v1/runs/{run_id}/stream", headers={"Last-Event-ID": str(n - 1)}) as response:
        last = read_sse(response.iter_raw())
    assert [(e.id, e.data) for e in last.events] == [(n, DONE)]


def test_frames_arrive_while_the_run_is_still_running(http: httpx.Client, objects: Objects) -> None:
    # Given a round robin whose second speaker takes 1.5 s to answer
    fast = objects.agent("fast")
    slow = objects.agent("slow", model="delay_ms=1500")
    group = objects.group([fast["id"], slow["id"]])
    # When streaming
    with open_stream(http, group["id"], send_body()) as response:
        run_id = response.headers["x-run-id"]
        events = response.iter_raw()
        first = read_sse(events, stop_after=1)
        # Then the first message frame is here while the run is still running
        status = http.get(f"/v1/runs/{run_id}").json()["status"]
        assert first.events[0].json["name"] == "fast"
        assert status == "running"
        rest = read_sse(events)
    # and the rest follows once the slow agent has answered
    assert rest.events[-1].data == DONE
    assert rest.events[-1].received_at - first.events[0].received_at > 1.0
    assert [e.id for e in first.events + rest.events] == list(range(1, len(rest.events) + 2))


def test_token_deltas_arrive_while_the_model_is_still_generating(http: httpx.Client, objects: Objects) -> None:
    # Given an agent whose model produces a delta every 80 ms (about a dozen deltas: 1 s for the whole answer)
    group = objects.group([objects.agent("typist", model="delta_ms=80")["id"]])
    # When streaming tokens
    with open_stream(http, group["id"], send_body("please write a short answer", stream_tokens=True)) as response:
        run_id = response.headers["x-run-id"]
        events = response.iter_raw()
        first = read_sse(events, stop_after=1)
        status = http.get(f"/v1/runs/{run_id}").json()["status"]
        rest = read_sse(events)
    # Then the first reasoning delta is delivered while the run is running, long before the answer is complete,
    deltas = first.events + rest.events[:-2]
    assert deltas[0].json["message_type"] == "reasoning_message"
    assert status == "running"
    assert len(deltas) >= 10
    assert deltas[-1].received_at - deltas[0].received_at > 0.6
    # in several deliveries (batched writes, not one write at the end of the step)
    bursts = 1 + sum(1 for a, b in zip(deltas, deltas[1:]) if b.received_at - a.received_at > 0.1)
    assert bursts >= 3, [round(d.received_at - deltas[0].received_at, 2) for d in deltas]
