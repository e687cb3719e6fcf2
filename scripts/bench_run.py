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
sys.path.insert(0, str(ROOT / "scripts"))

import httpx  # noqa: E402
from letta_client import CreateBlock, EmbeddingConfig, Letta, LlmConfig, MessageCreate, RoundRobinManager  # noqa: E402

from fake_model import FakeModel  # noqa: E402

TURNS = 3


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values), 1), "p95_ms": round(pct(values, 95), 1), "n": len(values)}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_ours(call_log: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "LETTA_LOCAL_CALL_LOG": str(call_log)}
    env["LETTA_MODEL_MODE"] = "configured"  # every agent uses the model it names
    out = open(log, "wb")  # noqa: SIM115 - open for the server's whole life
    proc = subprocess.Popen([sys.executable, "-m", "lettagroups_local"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/v1/health/", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the local server did not start")


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


def calls_per_send(call_log: Path, windows: list[tuple[float, float]]) -> dict[str, float]:
    """AWS calls logged by our server inside the sync sends' time windows, per send, by service:operation."""
    if not call_log.exists() or not windows:
        return {}
    counts: collections.Counter[str] = collections.Counter()
    for line in call_log.read_text().splitlines():
        call = json.loads(line)
        if any(start <= call["t"] <= end for start, end in windows):
            counts[f"{call['service']}:{call['operation']}"] += 1
    return {k: round(v / len(windows), 2) for k, v in sorted(counts.items())}


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
            "calls_per_sync_send": calls_per_send(call_log, targets[0].windows),
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
    print("AWS calls per sync send:", json.dumps(result["calls_per_sync_send"]))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
