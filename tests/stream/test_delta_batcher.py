"""Unit tests for the token-delta batcher (streaming/batcher.py): small ordered writes to the run's event log, a
timer so a quiet model does not hold deltas back, and the trace used by scripts/bench_stream.py."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from lettagroups.dal import events as events_dal
from lettagroups.streaming import batcher as batcher_module
from lettagroups.streaming.batcher import DeltaBatcher


@dataclass
class Ctx:
    org_id: str
    run_id: str


@pytest.fixture
def ctx(actor: Any) -> Ctx:
    return Ctx(org_id=actor.organization_id, run_id=f"run-{uuid.uuid4()}")


def _batcher(ctx: Ctx) -> DeltaBatcher:
    return DeltaBatcher(ctx.org_id, ctx.run_id, after_seq=0)


def _event(i: int) -> dict[str, Any]:
    return {"id": "message-1", "message_type": "reasoning_message", "reasoning": f"r{i}"}


def _logged(ctx: Ctx) -> list[str]:
    return [data for _, data in events_dal.read(ctx.org_id, ctx.run_id, 0)]


def test_first_delta_is_written_at_once_and_later_ones_within_the_batch_interval(
    ctx: Ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a batcher (a 0.5 s interval, so a slow machine does not flush early), When a model produces a delta,
    # then three more quickly, then goes quiet
    monkeypatch.setattr(batcher_module, "BATCH_SECONDS", 0.5)
    batcher = _batcher(ctx)
    batcher(_event(0))
    # Then the first delta is in the log at once (time to first token does not wait for a batch)
    assert len(_logged(ctx)) == 1
    for i in range(1, 4):
        batcher(_event(i))
    assert len(_logged(ctx)) == 1  # batched...
    time.sleep(batcher_module.BATCH_SECONDS + 0.2)
    # ...and written by the timer although no further delta came, in order
    assert [f'{{"id":"message-1","message_type":"reasoning_message","reasoning":"r{i}"}}' for i in range(4)] == _logged(ctx)
    batcher.close()


def test_a_full_batch_is_written_without_waiting(ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batcher_module, "BATCH_SECONDS", 60.0)
    batcher = _batcher(ctx)
    batcher(_event(0))  # written at once (first delta)
    # When a whole batch accumulates, Then it is written at once, not after the interval
    for i in range(1, batcher_module.BATCH_EVENTS + 1):
        batcher(_event(i))
    assert len(_logged(ctx)) == batcher_module.BATCH_EVENTS + 1
    batcher.close()


def test_drain_hands_what_is_pending_to_the_steps_transaction(ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a batcher that has written the first delta and holds two more
    monkeypatch.setattr(batcher_module, "BATCH_SECONDS", 60.0)
    batcher = _batcher(ctx)
    for i in range(3):
        batcher(_event(i))
    # When the step ends
    pending = batcher.drain()
    # Then the pending frames come back (for the step's own write) and the batcher writes nothing more
    assert len(pending) == 2 and len(_logged(ctx)) == 1 and batcher.seq == 1
    batcher(_event(3))
    batcher.flush()
    assert len(_logged(ctx)) == 1


def test_concurrent_deltas_and_timer_keep_their_order(ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a short interval, so the timer and the producing thread both write often
    monkeypatch.setattr(batcher_module, "BATCH_SECONDS", 0.01)
    batcher = _batcher(ctx)
    # When 200 deltas are produced with tiny pauses
    for i in range(200):
        batcher(_event(i))
        if i % 20 == 0:
            time.sleep(0.012)
    batcher.flush()
    # Then the log holds each exactly once, in production order
    logged = _logged(ctx)
    assert [f'{{"id":"message-1","message_type":"reasoning_message","reasoning":"r{i}"}}' for i in range(200)] == logged
    # and no timer outlives the flush (one that fired during it finishes its own, empty, flush at once)
    for timer in [t for t in threading.enumerate() if isinstance(t, threading.Timer)]:
        timer.join(timeout=1)
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]


def test_trace_logs_each_written_frame_with_its_times(ctx: Ctx) -> None:
    # Given the trace logger at DEBUG (what scripts/bench_stream.py does)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    trace = logging.getLogger("lettagroups.streaming.trace")
    handler = Keep()
    trace.addHandler(handler)
    trace.setLevel(logging.DEBUG)
    try:
        before = time.time()
        batcher = _batcher(ctx)
        batcher(_event(0))
        batcher(_event(1))
        batcher.flush()
    finally:
        trace.removeHandler(handler)
        trace.setLevel(logging.NOTSET)
    # Then every written frame is logged with its run, sequence number and produced <= started <= written times
    assert [(r.run_id, r.seq) for r in records] == [(ctx.run_id, 1), (ctx.run_id, 2)]  # type: ignore[attr-defined]
    for record in records:
        produced, started, written = record.t  # type: ignore[attr-defined]
        assert before <= produced <= started <= written <= time.time()
