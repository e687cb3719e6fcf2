"""Following a run's event log until its terminal frame: what the stream endpoint sends.

The writers (the run's tasks, in other Lambdas) append frames to the log; this reader polls it with
strongly consistent queries: every `POLL_SECONDS` while the run is active (a frame within the last
`ACTIVE_SECONDS`, or the stream just opened), so delivery lags a write by at most that plus one query;
after a longer silence (a slow tool, a slow model) the interval grows to `IDLE_POLL_SECONDS`, which keeps
long quiet streams cheap. (A fixed interval matters: a backoff that restarts at every frame falls into
step with the writer's batch cadence and then reads each batch late.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Optional

from ..dal import events as events_dal
from ..dal import runs as runs_dal
from ..models.messages import LettaUsageStatistics
from ..models.records import RunRecord
from .frames import DONE, KEEPALIVE, error_frame, sse, usage_frame

OPEN = b": stream open\n\n"
_trace = logging.getLogger("lettagroups.streaming.trace")  # see scripts/bench_stream.py
POLL_SECONDS = 0.025
ACTIVE_SECONDS = 5.0
IDLE_POLL_SECONDS = 0.25
RUN_CHECK_SECONDS = 1.0  # how often a quiet log makes us look at the run record
KEEPALIVE_SECONDS = 15.0
ORPHAN_GRACE_SECONDS = 5.0  # a finished run whose [DONE] never arrived is closed after this
DEFAULT_DEADLINE_SECONDS = 840.0  # below the stream function's 900 s timeout, so the stream still ends cleanly


def _closing_frames(run: Optional[RunRecord]) -> list[str]:
    """What ends a stream whose run finished without writing its own last frames (or never writes any)."""
    if run is not None and run.status == "completed" and run.usage:
        usage = LettaUsageStatistics.model_validate({**run.usage, "steps_messages": None})
        return [usage_frame(usage), DONE]
    if run is not None and run.failure is not None:
        return [error_frame(run.failure.detail, run.failure.code), DONE]
    return [error_frame(), DONE]


async def tail(
    org_id: str,
    run_id: str,
    starting_after: int = 0,
    *,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    render: Callable[[Optional[int], str], Optional[bytes]] = sse,
) -> AsyncIterator[bytes]:
    """Yield SSE bytes for every frame after `starting_after`, ending with `[DONE]` (each frame as `render` writes it:
    Letta's events by default; `render` may return None to leave a frame out).

    - Frames carry `id: <seq>`, so a client can resume with `Last-Event-ID` / `starting_after`.
    - A comment opens the stream (headers and a first byte go out at once, before any step has run), and
      comment keep-alives break silences longer than `KEEPALIVE_SECONDS`; letta-client ignores comments.
    - A run that is over but whose `[DONE]` never arrives (its writer died) is closed after
      `ORPHAN_GRACE_SECONDS` with a usage or error frame (from the run record) and `[DONE]`, and so is a stream
      still open at `deadline_seconds`. Those closing frames have no `id:` (they are not in the log).
    - Resuming after the `[DONE]` frame itself gets an empty stream (the client already has everything).
    - Nothing here stops the run: a client that disconnects only stops this generator.
    """
    last = starting_after
    started = time.monotonic()
    last_sent = started
    last_frame = started
    delay = POLL_SECONDS
    checked_at = started  # a run just sent to has no frames yet: look at its record only once it stays quiet
    finished_at: Optional[float] = None
    run: Optional[RunRecord] = None
    yield OPEN
    if starting_after > 0:
        seen = await asyncio.to_thread(events_dal.read, org_id, run_id, starting_after - 1, 1)
        if seen and seen[0][1] == DONE:
            return  # the client already has the whole stream, [DONE] included: nothing comes after it
    boundary = last == 0  # `last` ends an item: the log's start, or the last frame of a read (reads give whole items)
    while True:
        frames = await asyncio.to_thread(events_dal.read, org_id, run_id, last, item_boundary=boundary)
        if frames and _trace.isEnabledFor(logging.DEBUG):
            read_at = time.time()
            for seq, _ in frames:
                _trace.debug("read", extra={"run_id": run_id, "seq": seq, "read_at": read_at})
        for seq, data in frames:
            last = seq
            last_sent = last_frame = time.monotonic()
            rendered = render(seq, data)
            if rendered is not None:
                yield rendered
            if data == DONE:
                return
        if frames:
            boundary = True
            delay = POLL_SECONDS
            continue
        now = time.monotonic()
        if finished_at is None and now - checked_at >= RUN_CHECK_SECONDS:
            checked_at = now
            run = await asyncio.to_thread(runs_dal.get_run, org_id, run_id)
            if run is None or run.finished:
                # Group runs write their last frames as they finish; other runs (background sleeptime passes)
                # never write any, so there is nothing to wait for.
                grace = ORPHAN_GRACE_SECONDS if run is not None and run.kind == "group" else 0.0
                finished_at = now - ORPHAN_GRACE_SECONDS + grace
                delay = POLL_SECONDS
                continue  # read once more right away: the last frames may have landed meanwhile
        if (finished_at is not None and now - finished_at >= ORPHAN_GRACE_SECONDS) or now - started > deadline_seconds:
            for data in _closing_frames(run if finished_at is not None else None):
                rendered = render(None, data)
                if rendered is not None:
                    yield rendered
            return
        if now - last_sent > KEEPALIVE_SECONDS:
            last_sent = now
            yield KEEPALIVE
        await asyncio.sleep(delay)
        delay = POLL_SECONDS if now - last_frame < ACTIVE_SECONDS else min(delay * 1.5, IDLE_POLL_SECONDS)
