#!/usr/bin/env python3
"""Streaming latency benchmark for POST /v1/groups/{group_id}/messages/stream on the local server.

A script, never a timed test. It starts lettagroups_local.LocalServer in-process on a free loopback port (embedded
moto, group runs through the real state machine, the built-in offline model) and streams to one-agent round-robin
groups with raw httpx, one request at a time. For every run it records, on the client:

    ttfb         request sent -> first byte of the body (the ": stream open" comment)
    first_frame  request sent -> first `data:` frame (a whole message in step mode, the first delta in token mode)
    done         request sent -> `data: [DONE]`

and, in token mode, for every delta frame: its delivery latency, from the moment the model produced the delta to
the moment the client had the frame. The server side of that comes from the `lettagroups.streaming.trace` logger
(orchestration/agent_steps._DeltaBatcher logs each written frame's run id, sequence number and the wall-clock times
it was produced / its batch write started / the write returned); the client stamps each frame on arrival; the frames
are matched by (run id, `id:` sequence number). Server and client share this process, hence one clock
(time.time()). The latency splits into batching (produced -> write started), the event-log write (started -> written)
and delivery (written -> received: the stream function's polling of the log plus HTTP). Nothing in the wire format
changes for this. The stream function also logs when it read each frame from the log, which splits delivery into
the poll wait (written -> read) and tail -> client (read -> received: asyncio, uvicorn, loopback, httpx).

Scenarios (N timed rounds after W warm-up rounds; each round runs every scenario once, on a fresh one-agent group):
    steps            stream_tokens=false, offline model (answers at once)
    tokens           stream_tokens=true,  offline model (its deltas come out back to back)
    steps-paced      stream_tokens=false, offline model pacing its answer: one delta every --delta-ms ms
    tokens-paced     stream_tokens=true,  same pacing (what a real model streaming ~20-50 tokens/s looks like)

Usage (from the repository root):
    .venv/bin/python scripts/bench_stream.py                    # N=30, prints a markdown table
    .venv/bin/python scripts/bench_stream.py --n 50 --delta-ms 20 --out /tmp/stream.json

Results describe the local emulation (moto in-process, one Python process, loopback), not AWS.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

from benchstats import percentile  # noqa: E402 - the scripts' folder is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "layers" / "common", ROOT / "local"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LettaGroupsBench")

import httpx  # noqa: E402

TRACE_LOGGER = "lettagroups.streaming.trace"


class TraceCollector(logging.Handler):
    """Keeps the batcher's per-frame trace: (run_id, seq) -> (produced, write started, written)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.frames: dict[tuple[str, int], tuple[float, float, float]] = {}
        self.reads: dict[tuple[str, int], float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        run_id, seq, times = getattr(record, "run_id", None), getattr(record, "seq", None), getattr(record, "t", None)
        read_at = getattr(record, "read_at", None)
        if run_id is not None and seq is not None and read_at is not None:
            self.reads.setdefault((str(run_id), int(seq)), float(read_at))  # the first stream to read it
        if run_id is not None and seq is not None and times is not None:
            self.frames[(str(run_id), int(seq))] = tuple(times)  # type: ignore[assignment]  # handle() holds self.lock


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 1) if values else float("nan"),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "min_ms": round(min(values) * 1000, 1) if values else float("nan"),
        "max_ms": round(max(values) * 1000, 1) if values else float("nan"),
    }


def one_run(client: httpx.Client, group_id: str, stream_tokens: bool) -> dict[str, Any]:
    """Stream one message; returns the client-side times and every data frame's (seq, arrival wall time, data)."""
    body = {"messages": [{"role": "user", "content": "What should we name the new dog?"}], "stream_tokens": stream_tokens}
    frames: list[tuple[Optional[int], float, str]] = []
    sent_wall = time.time()
    sent = time.perf_counter()
    ttfb = None
    buffer = b""
    with client.stream("POST", f"/v1/groups/{group_id}/messages/stream", json=body) as response:
        response.raise_for_status()
        run_id = response.headers["x-run-id"]
        for chunk in response.iter_raw():
            now, now_wall = time.perf_counter(), time.time()
            if ttfb is None:
                ttfb = now - sent
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                seq: Optional[int] = None
                data = None
                for line in block.split(b"\n"):
                    if line.startswith(b"id: "):
                        seq = int(line[4:])
                    elif line.startswith(b"data: "):
                        data = line[6:].decode()
                if data is not None:
                    frames.append((seq, now_wall, data))
                    if data == "[DONE]":
                        done = now - sent
    first_wall = frames[0][1] if frames else float("nan")
    return {
        "run_id": run_id,
        "ttfb": ttfb,
        "first_frame": first_wall - sent_wall,
        "done": done,
        "frames": frames,
        "data_frames": len(frames),
    }


def analyse(runs: list[dict[str, Any]], trace: TraceCollector, stream_tokens: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ttfb": summary([r["ttfb"] for r in runs]),
        "first_frame": summary([r["first_frame"] for r in runs]),
        "done": summary([r["done"] for r in runs]),
        "data_frames_per_run": statistics.median(r["data_frames"] for r in runs),
    }
    if stream_tokens:
        parts: dict[str, list[float]] = defaultdict(list)
        for r in runs:
            first = True
            for seq, received, _ in r["frames"]:
                times = trace.frames.get((r["run_id"], seq)) if seq is not None else None
                if times is None:
                    continue  # not a token delta (tool returns, usage, [DONE] are written whole)
                produced, started, written = times
                parts["delta_total"].append(received - produced)
                parts["delta_batching"].append(started - produced)
                parts["delta_write"].append(written - started)
                parts["delta_delivery"].append(received - written)
                read_at = trace.reads.get((r["run_id"], seq))
                if read_at is not None:
                    parts["delta_poll"].append(read_at - written)
                    parts["delta_send"].append(received - read_at)
                if first:
                    parts["first_delta_total"].append(received - produced)
                    first = False
        out.update({name: summary(values) for name, values in parts.items()})
    return out


def create_group(client: httpx.Client, name: str, model: Optional[str]) -> str:
    body: dict[str, Any] = {"name": name, "memory_blocks": [{"label": "persona", "value": f"I am {name}."}]}
    if model:
        body["model"] = model
    agent = client.post("/v1/agents/", json=body).json()
    group = client.post("/v1/groups/", json={"agent_ids": [agent["id"]], "description": "bench"}).json()
    return str(group["id"])


def markdown(results: dict[str, Any], delta_ms: int) -> str:
    rows = [
        "| Scenario | time to first byte | time to first `data:` frame | time to `[DONE]` | data frames / run |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        cells = [f"{r[k]['median_ms']} / {r[k]['p95_ms']}" for k in ("ttfb", "first_frame", "done")]
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {r['data_frames_per_run']:g} |")
    rows += [
        "",
        f"Token deltas: model delta produced → frame received by the client (pacing {delta_ms} ms per delta where paced)",
        "",
        "| Scenario | frames | all deltas: total | batching | log write | delivery | (poll wait | tail → client) | first delta of a run: total |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if "delta_total" not in r:
            continue
        cells = [
            f"{r[k]['median_ms']} / {r[k]['p95_ms']}"
            for k in (
                "delta_total",
                "delta_batching",
                "delta_write",
                "delta_delivery",
                "delta_poll",
                "delta_send",
                "first_delta_total",
            )
        ]
        rows.append(f"| {name} | {r['delta_total']['n']} | " + " | ".join(cells) + " |")
    rows.append("")
    rows.append("Cells: median / p95 in milliseconds.")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30, help="timed runs per scenario (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    parser.add_argument("--delta-ms", type=int, default=25, help="pacing of the paced scenarios (default 25 ms per delta)")
    parser.add_argument("--out", help="write every summary (and the setup) as JSON here")
    args = parser.parse_args()

    from lettagroups_local.emulation import free_port
    from lettagroups_local.server import LocalServer

    for noisy in ("werkzeug", "botocore", "moto", "uvicorn", "lettagroups_local"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    trace = TraceCollector()
    trace_logger = logging.getLogger(TRACE_LOGGER)
    trace_logger.addHandler(trace)
    trace_logger.setLevel(logging.DEBUG)
    trace_logger.propagate = False

    server = LocalServer(port=free_port(), table_name="letta-groups-bench-stream")
    server.start_background()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as client:
            scenarios = [
                ("steps", None, False),
                ("tokens", None, True),
                ("steps-paced", f"offline/letta-offline?delta_ms={args.delta_ms}", False),
                ("tokens-paced", f"offline/letta-offline?delta_ms={args.delta_ms}", True),
            ]
            runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
            # Interleaved, each run on a fresh one-agent group (untimed set-up): every scenario sees the same
            # (growing) emulated table, and no run carries an earlier run's transcript in its prompt.
            for i in range(args.warmup + args.n):
                for name, model, tokens in scenarios:
                    group_id = create_group(client, f"dog-{i}", model)
                    result = one_run(client, group_id, tokens)
                    if i >= args.warmup:
                        runs[name].append(result)
                if (i + 1) % 10 == 0:
                    print(f"{i + 1}/{args.warmup + args.n} rounds", file=sys.stderr)
            time.sleep(0.2)  # let the last trace records land
            results = {name: analyse(runs[name], trace, tokens) for name, _, tokens in scenarios}
    finally:
        server.shutdown()
    setup = {
        "n": args.n,
        "warmup": args.warmup,
        "delta_ms": args.delta_ms,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs",
        "batch": _batch_settings(),
    }
    print(markdown(results, args.delta_ms))
    if args.out:
        Path(args.out).write_text(json.dumps({"setup": setup, "results": results}, indent=2) + "\n")
    return 0


def _batch_settings() -> dict[str, Any]:
    from lettagroups.orchestration import agent_steps
    from lettagroups.streaming import tail

    return {
        "DELTA_BATCH_SECONDS": agent_steps.DELTA_BATCH_SECONDS,
        "DELTA_BATCH_EVENTS": agent_steps.DELTA_BATCH_EVENTS,
        "POLL_SECONDS": tail.POLL_SECONDS,
        "ACTIVE_SECONDS": tail.ACTIVE_SECONDS,
        "IDLE_POLL_SECONDS": tail.IDLE_POLL_SECONDS,
    }


if __name__ == "__main__":
    sys.exit(main())
