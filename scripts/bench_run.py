#!/usr/bin/env python3
"""Group-run latency, side by side with the Letta 0.7.7 reference server, in one run (a script, never a timed test).

Both servers get the same agents on the same stand-in model (scripts/fake_model.py, which answers at once), so the
numbers measure the servers. Each round sends, with letta-client 0.1.138, to a 2-agent round-robin group with
`max_turns=3` (three agent turns per send) on every target, in alternating order:

    sync          groups.messages.create(...)                 request -> LettaResponse parsed
    first_message groups.messages.create_stream(...)          request -> first message chunk parsed
    stream_done   the same stream                             request -> the stream has ended

Our server is `python -m lettagroups_local` in a subprocess (what `make run` starts), configured to use each
agent's model. With `LETTA_LOCAL_CALL_LOG` it logs every AWS call it makes (DynamoDB, Lambda, Step Functions);
the script attributes them to the sends by time and reports calls per send.

    .venv/bin/python scripts/bench_run.py --peer http://127.0.0.1:8290 --n 30      # both, markdown table
    .venv/bin/python scripts/bench_run.py --n 10                                   # ours only

Start the peer with ../shared/peer/run-letta-peer.sh (see ../shared/reference/letta-peer.md).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "local")]

from benchstats import percentile  # noqa: E402
from letta_client import CreateBlock, EmbeddingConfig, Letta, LlmConfig, MessageCreate, RoundRobinManager  # noqa: E402

from lettagroups_local.launch import start_local_server  # noqa: E402

from fake_model import FakeModel  # noqa: E402

TURNS = 3


def summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values), 1), "p95_ms": round(percentile(values, 95), 1), "n": len(values)}


def start_ours(call_log: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    out = open(log, "wb")  # noqa: SIM115 - open for the server's whole life
    return start_local_server({"LETTA_LOCAL_CALL_LOG": str(call_log)}, out)


class Target:
    def __init__(self, name: str, url: str, model_url: str) -> None:
        self.name = name
        self.client = Letta(base_url=url, timeout=120)
        llm = LlmConfig(model="fake-model", model_endpoint_type="openai", model_endpoint=model_url, context_window=8192)
        embedding = EmbeddingConfig(
            embedding_endpoint_type="openai",
            embedding_endpoint=model_url,
            embedding_model="text-embedding-ada-002",
            embedding_dim=1536,
            embedding_chunk_size=300,
        )
        agents = [
            self.client.agents.create(
                name=f"bench-{name}-{i}-{int(time.time())}",
                memory_blocks=[
                    CreateBlock(label="persona", value=f"I am agent {i}."),
                    CreateBlock(label="human", value="A user."),
                ],
                llm_config=llm,
                embedding_config=embedding,
            )
            for i in range(2)
        ]
        self.agent_ids = [a.id for a in agents]
        group = self.client.groups.create(
            agent_ids=self.agent_ids, description="bench", manager_config=RoundRobinManager(max_turns=TURNS)
        )
        self.group_id = group.id
        self.samples: dict[str, list[float]] = collections.defaultdict(list)
        self.windows: list[tuple[float, float]] = []

    def sync_send(self, text: str) -> float:
        start = time.perf_counter()
        started_wall = time.time()
        response = self.client.groups.messages.create(self.group_id, messages=[MessageCreate(role="user", content=text)])
        elapsed = (time.perf_counter() - start) * 1000
        self.windows.append((started_wall, time.time()))
        assert response.usage.step_count == TURNS, response.usage
        return elapsed

    def stream_send(self, text: str) -> tuple[float, float]:
        start = time.perf_counter()
        first = None
        for chunk in self.client.groups.messages.create_stream(
            self.group_id, messages=[MessageCreate(role="user", content=text)]
        ):
            if first is None and getattr(chunk, "message_type", None) not in (None, "usage_statistics"):
                first = (time.perf_counter() - start) * 1000
        done = (time.perf_counter() - start) * 1000
        assert first is not None
        return first, done

    def cleanup(self) -> None:
        try:
            self.client.groups.delete(self.group_id)
            for agent_id in self.agent_ids:
                self.client.agents.delete(agent_id)
        except Exception:  # noqa: BLE001 - best effort
            pass


# Published us-east-1 prices (aws.amazon.com/*/pricing, read 2026-12-04): HTTP API, Lambda on arm64, Step Functions
# Express, DynamoDB on-demand (after the November 2024 reduction).
PRICES_DATE = "2026-12-04"
HTTP_API_PER_REQUEST = 1.00 / 1e6
LAMBDA_PER_REQUEST = 0.20 / 1e6
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334
EXPRESS_PER_REQUEST = 1.00 / 1e6
EXPRESS_PER_GB_SECOND = 0.00001667
EXPRESS_MEMORY_GB = 64 / 1024  # billed in 64 MB chunks; a run's state is a few KB
DDB_PER_WRU = 0.625 / 1e6
DDB_PER_RRU = 0.125 / 1e6
LAMBDA_MEMORY_GB = 1.0  # template.yaml Globals: MemorySize 1024


def per_send(call_log: Path, windows: list[tuple[float, float]]) -> dict[str, Any]:
    """What our server did inside the sync sends' time windows, per send: calls by service:operation, estimated
    DynamoDB capacity units, Lambda task time."""
    if not call_log.exists() or not windows:
        return {}
    counts: collections.Counter[str] = collections.Counter()
    wru = rru = task_ms = 0.0
    for line in call_log.read_text().splitlines():
        call = json.loads(line)
        if any(start <= call["t"] <= end for start, end in windows):
            counts[f"{call['service']}:{call['operation']}"] += 1
            wru += call.get("wru", 0.0)
            rru += call.get("rru", 0.0)
            if call["operation"] == "Invoke":
                task_ms += call.get("ms", 0.0)
    n = len(windows)
    return {
        "calls": {k: round(v / n, 2) for k, v in sorted(counts.items())},
        "dynamodb_requests": round(sum(v for k, v in counts.items() if k.startswith("dynamodb:")) / n, 2),
        "lambda_invocations": round(1 + counts.get("awslambda:Invoke", 0) / n, 2),  # the send's own function + tasks
        "wru": round(wru / n, 1),
        "rru": round(rru / n, 1),
        "task_ms": round(task_ms / n, 1),
    }


def cost_per_1000(usage: dict[str, Any], send_ms: float, model_seconds_per_turn: float = 0.0) -> dict[str, float]:
    """Dollars per 1,000 sync sends, model tokens excluded; `model_seconds_per_turn` adds the time the functions wait
    on a slower model (the send's function waits for the whole run, each task for its turn)."""
    wait = model_seconds_per_turn * TURNS
    send_s = send_ms / 1000 + wait
    task_s = usage["task_ms"] / 1000 + wait
    parts = {
        "api_gateway": HTTP_API_PER_REQUEST,
        "lambda_requests": usage["lambda_invocations"] * LAMBDA_PER_REQUEST,
        "lambda_duration": (send_s + task_s) * LAMBDA_MEMORY_GB * LAMBDA_ARM_PER_GB_SECOND,
        "step_functions": EXPRESS_PER_REQUEST + send_s * EXPRESS_MEMORY_GB * EXPRESS_PER_GB_SECOND,
        "dynamodb": usage["wru"] * DDB_PER_WRU + usage["rru"] * DDB_PER_RRU,
    }
    parts = {k: round(v * 1000, 5) for k, v in parts.items()}
    parts["total"] = round(sum(parts.values()), 5)
    return parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peer", help="base URL of a running Letta 0.7.7 server (omit to measure ours only)")
    parser.add_argument("--n", type=int, default=30, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the raw samples and summary as JSON")
    args = parser.parse_args()

    model = FakeModel().start()
    scratch = Path(tempfile.mkdtemp(prefix="bench-run-"))
    call_log = scratch / "aws-calls.jsonl"
    proc, ours_url = start_ours(call_log, scratch / "server.log")
    print(f"our server's log: {scratch / 'server.log'}", file=sys.stderr)
    try:
        targets = [Target("ours", ours_url, model.url)]
        if args.peer:
            targets.append(Target("letta", args.peer, model.url))
        for round_no in range(args.warmup + args.n):
            order = targets if round_no % 2 == 0 else list(reversed(targets))
            for target in order:
                sync_ms = target.sync_send(f"round {round_no}: what is everyone up to?")
                first_ms, done_ms = target.stream_send(f"round {round_no}: and then?")
                if round_no >= args.warmup:
                    target.samples["sync"].append(sync_ms)
                    target.samples["first_message"].append(first_ms)
                    target.samples["stream_done"].append(done_ms)
                else:
                    target.windows.clear()
        result: dict[str, Any] = {
            "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d"),
            "turns_per_send": TURNS,
            "rounds": args.n,
            "targets": {t.name: {k: summary(v) for k, v in t.samples.items()} for t in targets},
            "per_sync_send": per_send(call_log, targets[0].windows),
            "samples": {t.name: t.samples for t in targets},
        }
        for t in targets:
            t.cleanup()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        model.stop()
    ours = result["targets"]["ours"]
    peer = result["targets"].get("letta")
    print(f"| {'metric':<14} | ours median / p95 (ms) | Letta 0.7.7 median / p95 (ms) | ratio (median) |")
    print("|---|---|---|---|")
    for metric in ("sync", "first_message", "stream_done"):
        mine = ours[metric]
        theirs = peer[metric] if peer else None
        ratio = f"{mine['median_ms'] / theirs['median_ms']:.2f}×" if theirs else "n/a"
        other = f"{theirs['median_ms']} / {theirs['p95_ms']}" if theirs else "n/a"
        print(f"| {metric:<14} | {mine['median_ms']} / {mine['p95_ms']} | {other} | {ratio} |")
    usage = result["per_sync_send"]
    print("AWS calls per sync send:", json.dumps(usage))
    if usage:
        for label, wait in (("model answers at once", 0.0), ("model takes 1 s per turn", 1.0)):
            cost = cost_per_1000(usage, ours["sync"]["median_ms"], wait)
            result.setdefault("cost_per_1000_sync_sends", {})[label] = cost
            print(f"cost per 1,000 sync sends ({label}, prices of {PRICES_DATE}):", json.dumps(cost))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
