"""Token deltas → the run's event log, in small batches (not one write per token).

A batch goes out when it holds `BATCH_EVENTS` frames or when `BATCH_SECONDS` have passed since the last write: the
first delta after a quiet spell is written at once, later ones wait at most that long (a timer writes them even if
the model goes quiet, e.g. while a tool runs). Writes are serialised, so batches keep their order. Whatever is still
pending when the step ends is not written here: `drain` hands it to the step's own transaction.

With the `lettagroups.streaming.trace` logger at DEBUG, every written frame is logged with its sequence number and
wall-clock times (produced, write started, written); see scripts/bench_stream.py.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Optional

from ..dal import events as events_dal
from ..observability import logger
from .frames import delta_frame

BATCH_EVENTS = 50
BATCH_SECONDS = 0.15
_trace = logging.getLogger("lettagroups.streaming.trace")


class DeltaBatcher:
    def __init__(self, org_id: str, run_id: str, after_seq: int, only: Optional[list[str]] = None) -> None:
        self.only = set(only) if only is not None else None  # the request's include_return_message_types
        self.org_id = org_id
        self.run_id = run_id
        self.seq = after_seq  # the last sequence number written
        self.pending: list[tuple[str, float]] = []  # (frame, wall time the delta reached us)
        self.last_flush = time.monotonic() - BATCH_SECONDS
        self.lock = threading.Lock()  # pending, last_flush, timer
        self.write_lock = threading.Lock()  # one append at a time, in order
        self.timer: Optional[threading.Timer] = None
        self.closed = False

    def __call__(self, event: dict[str, Any]) -> None:
        if self.only is not None and event.get("message_type") not in self.only:
            return
        frame = delta_frame(event)
        with self.lock:
            self.pending.append((frame, time.time()))
            waited = time.monotonic() - self.last_flush
            due = len(self.pending) >= BATCH_EVENTS or waited >= BATCH_SECONDS
            if not due and self.timer is None and not self.closed:
                self.timer = threading.Timer(BATCH_SECONDS - waited, self._on_timer)
                self.timer.daemon = True
                self.timer.start()
        if due:
            self.flush()

    def _on_timer(self) -> None:
        with self.lock:
            self.timer = None
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the frames stay pending; the next flush (or the step's commit) writes them
            logger.warning("token batch write failed; retrying with the next batch", exc_info=True)

    def flush(self) -> None:
        with self.write_lock:
            with self.lock:
                if self.closed:
                    return
                batch, self.pending = self.pending, []
                self.last_flush = time.monotonic()
                if self.timer is not None:
                    self.timer.cancel()
                    self.timer = None
            if not batch:
                return
            started = time.time()
            try:
                self.seq = events_dal.append(self.org_id, self.run_id, [f for f, _ in batch], after_seq=self.seq)
            except BaseException:
                with self.lock:
                    self.pending[:0] = batch
                raise
            first = self.seq - len(batch) + 1
            if _trace.isEnabledFor(logging.DEBUG):
                written = time.time()
                for seq, (_, produced) in enumerate(batch, start=first):
                    _trace.debug("frame", extra={"run_id": self.run_id, "seq": seq, "t": (produced, started, written)})

    def drain(self) -> list[str]:
        """Stop writing and return what is still pending, for the step's own transaction."""
        with self.write_lock, self.lock:
            self.closed = True
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            batch, self.pending = self.pending, []
        return [f for f, _ in batch]

    def close(self) -> None:
        """A failed step: write what the model said before the failure (best effort), so it reaches the client
        before the error frame."""
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the run's error frame follows; losing a last delta is acceptable
            logger.warning("could not write the last token batch of a failed step", exc_info=True)
        self.drain()
