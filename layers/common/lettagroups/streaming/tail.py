"""Following a run's event log until its terminal frame: what the stream endpoint sends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Optional

from ..dal import events as events_dal
from ..dal import runs as runs_dal
from .frames import DONE, KEEPALIVE, error_frame, sse

POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
ORPHAN_GRACE_SECONDS = 5.0  # a finished run whose [DONE] never arrived is closed after this


async def tail(org_id: str, run_id: str, starting_after: int = 0, *, deadline_seconds: float = 900.0) -> AsyncIterator[bytes]:
    """Yield SSE bytes for every frame after `starting_after`, ending with `[DONE]`.

    Frames carry `id: <seq>` so a client can resume with Last-Event-ID. Silence is broken by
    comment keep-alives (letta-client ignores them). The run goes on if the client leaves.
    """
    last = starting_after
    started = time.monotonic()
    last_sent = started
    delay = POLL_SECONDS
    finished_at: Optional[float] = None
    yield b": stream open\n\n"  # flushes headers early, so time to first byte does not wait for a step
    while True:
        frames = await asyncio.to_thread(events_dal.read, org_id, run_id, last)
        for seq, data in frames:
            last = seq
            last_sent = time.monotonic()
            yield sse(seq, data)
            if data == DONE:
                return
        if frames:
            delay = POLL_SECONDS
            continue
        now = time.monotonic()
        if finished_at is None:
            run = await asyncio.to_thread(runs_dal.get_run, org_id, run_id)
            if run is None or run.get("status") in runs_dal.TERMINAL:
                finished_at = now
        if (finished_at is not None and now - finished_at > ORPHAN_GRACE_SECONDS) or now - started > deadline_seconds:
            yield sse(None, error_frame())
            yield sse(None, DONE)
            return
        if now - last_sent > KEEPALIVE_SECONDS:
            last_sent = now
            yield KEEPALIVE
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, MAX_POLL_SECONDS)
