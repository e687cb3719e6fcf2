"""Unit tests for streaming/tail.py: following a run's event log (ordering, resumption, keep-alives, and runs
whose last frames never arrive), against the `emulation` moto."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import pytest

from lettagroups.dal import events as events_dal
from lettagroups.dal import runs as runs_dal
from lettagroups.models.records import RunFailureRecord, RunRecord
from lettagroups.streaming import tail as tail_module
from lettagroups.streaming.frames import DONE, KEEPALIVE, sse

from support.sse import read_sse

OPEN = tail_module.OPEN


def _run(actor: Any, status: str = "running", kind: str = "group", **fields: Any) -> str:
    run = RunRecord(
        id=f"run-{uuid.uuid4()}",
        status=status,
        kind=kind,
        created_at="2026-01-01T00:00:00+00:00",
        conversation_id="group-x",
        **fields,
    )  # type: ignore[arg-type]
    assert runs_dal.create_run_once(actor.organization_id, run)
    return run.id


def _collect(org: str, run_id: str, starting_after: int = 0, timeout: float = 10.0, **kwargs: Any) -> list[bytes]:
    async def go() -> list[bytes]:
        out = []
        async for chunk in tail_module.tail(org, run_id, starting_after, **kwargs):
            out.append(chunk)
        return out

    return asyncio.run(asyncio.wait_for(go(), timeout))


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timings, so the waiting paths run in milliseconds."""
    monkeypatch.setattr(tail_module, "RUN_CHECK_SECONDS", 0.02)
    monkeypatch.setattr(tail_module, "ORPHAN_GRACE_SECONDS", 0.3)
    monkeypatch.setattr(tail_module, "KEEPALIVE_SECONDS", 0.05)


def test_tail_opens_with_a_comment_and_stops_at_done(actor: Any) -> None:
    # Given a run whose log holds two messages, usage, [DONE] (and, wrongly, something after it)
    org, run_id = actor.organization_id, _run(actor)
    events_dal.append(org, run_id, ['{"m":1}', '{"m":2}', '{"message_type":"usage_statistics"}', DONE, '{"late":1}'])
    # When tailed from the start
    chunks = _collect(org, run_id)
    # Then: the open comment, each frame with its id, and nothing after [DONE]
    assert chunks[0] == OPEN
    assert chunks[1:] == [sse(1, '{"m":1}'), sse(2, '{"m":2}'), sse(3, '{"message_type":"usage_statistics"}'), sse(4, DONE)]


def test_tail_resumes_after_a_sequence_number(actor: Any) -> None:
    org, run_id = actor.organization_id, _run(actor)
    events_dal.append(org, run_id, ["a", "b", "c", DONE])
    # When tailed after 2, Then only 3 and 4 come
    assert _collect(org, run_id, 2)[1:] == [sse(3, "c"), sse(4, DONE)]
    # When tailed after [DONE] itself, Then nothing but the open comment (the client has it all)
    started = time.monotonic()
    assert _collect(org, run_id, 4) == [OPEN]
    assert time.monotonic() - started < 1


def test_tail_follows_frames_written_while_it_reads(actor: Any) -> None:
    # Given a running run, and a writer that appends a frame every 30 ms, then [DONE]
    org, run_id = actor.organization_id, _run(actor)

    def writer() -> None:
        for i in range(10):
            time.sleep(0.03)
            events_dal.append(org, run_id, [f"f{i}"])
        events_dal.append(org, run_id, [DONE])

    thread = threading.Thread(target=writer)
    thread.start()
    chunks = _collect(org, run_id)
    thread.join()
    # Then every frame arrives once, in order, ending with [DONE]
    stream = read_sse(chunks)
    assert [(e.id, e.data) for e in stream.events] == [(i + 1, f"f{i}") for i in range(10)] + [(11, DONE)]


def test_silence_is_broken_by_comment_keepalives(actor: Any, fast: None) -> None:
    # Given a running run that writes nothing for 0.4 s, then [DONE]
    org, run_id = actor.organization_id, _run(actor)
    timer = threading.Timer(0.4, lambda: events_dal.append(org, run_id, [DONE]))
    timer.start()
    chunks = _collect(org, run_id)
    timer.join()
    # Then keep-alive comments fill the silence (never data events), and the stream still ends with [DONE]
    assert chunks.count(KEEPALIVE) >= 2
    stream = read_sse(chunks)
    assert [e.data for e in stream.events] == [DONE]


def test_a_completed_run_without_its_last_frames_is_closed_with_its_usage(actor: Any, fast: None) -> None:
    # Given a completed run whose usage is on the record but whose usage/[DONE] frames never arrive
    usage = {"completion_tokens": 1, "prompt_tokens": 2, "total_tokens": 3, "step_count": 1, "run_ids": None}
    org, run_id = actor.organization_id, _run(actor, status="completed", usage=usage)
    events_dal.append(org, run_id, ['{"m":1}'])
    started = time.monotonic()
    chunks = _collect(org, run_id)
    # Then after the grace period it ends with the usage and [DONE], without ids (they are not in the log)
    assert time.monotonic() - started >= 0.3
    assert chunks[-2:] == [
        b'data: {"message_type":"usage_statistics","completion_tokens":1,"prompt_tokens":2,"total_tokens":3,'
        b'"step_count":1,"run_ids":null}\n\n',
        b"data: [DONE]\n\n",
    ]
    assert [c for c in chunks[1:] if c != KEEPALIVE][0] == sse(1, '{"m":1}')


def test_a_failed_orphan_run_is_closed_with_the_generic_error(actor: Any, fast: None) -> None:
    # Given a failed run whose error/[DONE] frames never arrive
    org, run_id = actor.organization_id, _run(actor, status="failed", failure=RunFailureRecord(detail="boom"))
    # Then the stream ends with the generic error and [DONE]
    assert _collect(org, run_id)[-2:] == [b'data: {"error":"Stream failed (internal error occurred)"}\n\n', b"data: [DONE]\n\n"]


def test_final_frames_landing_during_the_grace_period_are_the_real_ones(actor: Any, fast: None) -> None:
    # Given a run marked completed whose final frames are appended 0.1 s later (finalize's order)
    org, run_id = actor.organization_id, _run(actor, status="completed", usage={"total_tokens": 9})
    timer = threading.Timer(0.1, lambda: events_dal.append(org, run_id, ['{"message_type":"usage_statistics"}', DONE]))
    timer.start()
    chunks = _collect(org, run_id)
    timer.join()
    # Then those frames (with their ids) end the stream, not a synthesized closing
    assert [c for c in chunks[1:] if c != KEEPALIVE] == [sse(1, '{"message_type":"usage_statistics"}'), sse(2, DONE)]


def test_runs_that_never_write_frames_close_at_once(actor: Any) -> None:
    # Given a finished background run (sleeptime passes write no event log), with the default 5 s grace
    usage = {"completion_tokens": 1, "prompt_tokens": 1, "total_tokens": 2, "step_count": 1}
    org, run_id = actor.organization_id, _run(actor, status="completed", kind="background", usage=usage)
    started = time.monotonic()
    chunks = _collect(org, run_id)
    # Then its stream ends right away with its usage and [DONE]
    assert time.monotonic() - started < 1.5
    # (the record's usage, without ids: those frames are not in the log; run_ids absent from the record is null)
    assert chunks == [
        OPEN,
        b'data: {"message_type":"usage_statistics","completion_tokens":1,"prompt_tokens":1,"total_tokens":2,'
        b'"step_count":1,"run_ids":null}\n\n',
        b"data: [DONE]\n\n",
    ]


def test_a_stream_open_too_long_ends_cleanly(actor: Any, fast: None) -> None:
    # Given a run that never finishes, When the stream's deadline passes
    org, run_id = actor.organization_id, _run(actor)
    chunks = _collect(org, run_id, deadline_seconds=0.2)
    # Then it ends with an error event and [DONE] instead of being cut mid-stream
    assert chunks[-2:] == [b'data: {"error":"Stream failed (internal error occurred)"}\n\n', b"data: [DONE]\n\n"]


def test_a_deleted_run_is_closed(actor: Any, fast: None) -> None:
    # Given a run id whose record is gone (TTL) and no frames
    org = actor.organization_id
    # Then the stream does not hang: error and [DONE]
    assert _collect(org, f"run-{uuid.uuid4()}")[-2:] == [
        b'data: {"error":"Stream failed (internal error occurred)"}\n\n',
        b"data: [DONE]\n\n",
    ]


def test_a_read_from_an_item_boundary_reads_no_earlier_item(actor: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a log of three items: frames 1-3, 4, and 5-7
    org, run_id = actor.organization_id, _run(actor)
    events_dal.append(org, run_id, ["a", "b", "c"])
    events_dal.append(org, run_id, ["d"])
    events_dal.append(org, run_id, ["e", "f", "g"])
    items_read: list[int] = []
    client = events_dal.client()

    class Counting:
        def query(self, **params: Any) -> Any:
            response = client.query(**params)
            items_read.append(len(response.get("Items", [])))
            return response

    monkeypatch.setattr(events_dal, "client", lambda: Counting())
    # When frames after 3 are read, knowing 3 ends an item, and then without knowing it
    at_boundary = events_dal.read(org, run_id, 3, item_boundary=True)
    looking_back = events_dal.read(org, run_id, 3)
    # Then both give frames 4-7, and only the read that looks back reads the item holding 1-3 again
    assert at_boundary == looking_back == [(4, "d"), (5, "e"), (6, "f"), (7, "g")]
    assert items_read == [2, 3]


def test_a_stream_resumed_mid_item_gets_the_rest_of_that_item_and_what_follows(actor: Any, fast: None) -> None:
    # Given a log whose first item holds frames 1-3, then 4 and [DONE]
    org, run_id = actor.organization_id, _run(actor)
    events_dal.append(org, run_id, ["a", "b", "c"])
    events_dal.append(org, run_id, ["d", DONE])
    # When a client resumes after frame 2 (inside the first item)
    events = read_sse(_collect(org, run_id, starting_after=2))
    # Then it gets 3, 4 and [DONE], in order
    assert [(e.id, e.data) for e in events.events] == [(3, "c"), (4, "d"), (5, DONE)]
