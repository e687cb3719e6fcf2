#!/usr/bin/env python3
"""Groups CRUD latency benchmark: this project's local server, the reference Letta peer, or both in one run.

A script, never a timed test. For each target it uses letta-client (0.1.138) sequentially on ONE client:

    1. creates 2 agents (for the peer: with the fake-LLM model config and persona/human memory blocks),
    2. runs WARMUP (10) untimed rounds of create + retrieve + list(limit=10), then deletes those groups,
    3. times N calls of each operation, in this order:
         create    groups.create(agent_ids=[a1, a2], description=..., manager_config=RoundRobinManager(max_turns=2))
         retrieve  groups.retrieve(id)                (each created group once)
         list10    groups.list(limit=10)
         list_all  groups.list()                      (no limit: returns all N groups)
         count     groups.count()                     (404 on letta 0.7.7: reported as n/a)
         modify    groups.modify(id, description=...)
         delete    groups.delete(id)
    4. deletes the agents.

Each sample is time.perf_counter() around one SDK call (request + response parsing). Reported per operation:
median, p95, p99 (linear interpolation), mean, min, max, in milliseconds, plus every sample in the JSON.
A call that fails is recorded (exact error) and the benchmark goes on with the other operations.

For target "ours" the script starts lettagroups_local.LocalServer in-process on a free loopback port (embedded moto
DynamoDB), and counts DynamoDB API calls (botocore "before-call") and HTTP attempts ("before-send", retries
included) made by the handlers' client (lettagroups.dal.table.client()) during each operation, reported per call
and by DynamoDB operation name, plus the wall time spent inside those calls (boto3 + HTTP + moto) and the garbage
collector's pauses in this process (client, gateway, handlers and moto all share it). Results describe the local
emulation, not AWS: moto is an in-memory Python DynamoDB whose costs grow with the table (see docs/performance.md).

Usage (from the repository root, with the project venv):

    make bench                                          # ours only, quick (N=50)
    .venv/bin/python scripts/bench_crud.py --n 200 --out docs/bench/crud-ours.json --markdown
    # side by side with the reference Letta 0.7.7 (see shared/reference/letta-peer.md), same machine, same run:
    python3 ../shared/peer/fake_llm.py 18999 /tmp/fake_llm.jsonl &
    PORT=8284 ../shared/peer/run-letta-peer.sh /tmp/peer-venv         # prints the server PID
    .venv/bin/python scripts/bench_crud.py --target both --peer-url http://127.0.0.1:8284 --n 200 \\
        --out docs/bench/crud-$(date +%F).json --markdown
    kill <peer PID> <fake_llm PID>

Options: --target ours|peer|both (default ours), --n N (default 50), --warmup W (default 10),
--peer-url URL (default http://127.0.0.1:8284), --fake-llm-url URL (model endpoint for peer agents, default
http://127.0.0.1:18999/v1), --out JSON (every sample, versions, machine), --markdown (print a README-ready table;
the default without --out). Per-operation details always go to stderr.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchstats import percentile  # noqa: E402 - the scripts' folder is on sys.path when a script runs

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ["create", "retrieve", "list10", "list_all", "count", "modify", "delete"]
LABELS = {
    "create": "create (round robin, 2 agents)",
    "retrieve": "retrieve",
    "list10": "list(limit=10)",
    "list_all": "list() — all {n} groups",
    "count": "count",
    "modify": "modify(description)",
    "delete": "delete",
}


# ---------------------------------------------------------------------------------------------- statistics


def summarize(samples: list[float]) -> dict[str, Any]:
    if not samples:
        return {"n": 0}
    return {
        "n": len(samples),
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(percentile(samples, 95), 3),
        "p99_ms": round(percentile(samples, 99), 3),
        "mean_ms": round(statistics.mean(samples), 3),
        "min_ms": round(min(samples), 3),
        "max_ms": round(max(samples), 3),
        "samples_ms": [round(x, 3) for x in samples],
    }


def describe_error(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    text = f"{type(exc).__name__}"
    if status is not None:
        text += f" {status}"
    text += f": {body if body is not None else exc}"
    return text[:600]


# ---------------------------------------------------------------------------------------------- DynamoDB counting


class DynamoCounter:
    """Per benchmark phase: DynamoDB API calls and HTTP attempts (botocore events), the wall time spent inside those
    calls (boto3 + HTTP + moto), and garbage-collector pauses of this process (server and client share it)."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.lock = threading.Lock()
        self.calls: dict[str, Counter[str]] = defaultdict(Counter)
        self.sends: Counter[str] = Counter()
        self.call_ms: Counter[str] = Counter()
        self.gc_ms: dict[str, Counter[int]] = defaultdict(Counter)
        self.gc_count: dict[str, Counter[int]] = defaultdict(Counter)
        self.local = threading.local()
        self.gc_started = 0.0
        self.client: Any = None

    def install(self) -> None:
        from lettagroups.dal import table

        self.client = table.client()
        events = self.client.meta.events
        events.register("before-call.dynamodb", self._on_call, unique_id="bench-crud-call")
        events.register("before-send.dynamodb", self._on_send, unique_id="bench-crud-send")
        events.register("after-call.dynamodb", self._on_after_call, unique_id="bench-crud-after-call")
        events.register("after-call-error.dynamodb", self._on_after_call, unique_id="bench-crud-after-call-error")
        gc.callbacks.append(self._on_gc)

    def uninstall(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, stage: str, info: dict[str, Any]) -> None:
        if stage == "start":
            self.gc_started = time.perf_counter()
        else:
            gen = int(info.get("generation", -1))
            self.gc_ms[self.phase][gen] += (time.perf_counter() - self.gc_started) * 1000
            self.gc_count[self.phase][gen] += 1

    def still_installed(self) -> bool:
        from lettagroups.dal import table

        return table.client() is self.client

    def _on_call(self, model: Any = None, **_: Any) -> None:
        name = getattr(model, "name", "?")
        self.local.started = time.perf_counter()
        with self.lock:
            self.calls[self.phase][name] += 1

    def _on_after_call(self, **_: Any) -> None:
        started = getattr(self.local, "started", None)
        if started is not None:
            with self.lock:
                self.call_ms[self.phase] += (time.perf_counter() - started) * 1000
            self.local.started = None

    def _on_send(self, **_: Any) -> None:
        with self.lock:
            self.sends[self.phase] += 1

    @contextmanager
    def phase_of(self, name: str) -> Iterator[None]:
        previous = self.phase
        self.phase = name
        try:
            yield
        finally:
            self.phase = previous

    def report(self, name: str, n_calls: int) -> dict[str, Any]:
        calls = self.calls.get(name, Counter())
        total = sum(calls.values())
        return {
            "api_calls": total,
            "http_requests": self.sends.get(name, 0),
            "per_call": round(total / n_calls, 3) if n_calls else None,
            "http_per_call": round(self.sends.get(name, 0) / n_calls, 3) if n_calls else None,
            "by_operation_per_call": {k: round(v / n_calls, 3) for k, v in sorted(calls.items())} if n_calls else {},
            "dynamodb_ms_per_call": round(self.call_ms.get(name, 0.0) / n_calls, 3) if n_calls else None,
            "gc_collections": {f"gen{g}": c for g, c in sorted(self.gc_count.get(name, Counter()).items())},
            "gc_pause_ms": {f"gen{g}": round(v, 1) for g, v in sorted(self.gc_ms.get(name, Counter()).items())},
        }


# ---------------------------------------------------------------------------------------------- the benchmark


def make_agents(client: Any, target: str, fake_llm_url: str) -> list[str]:
    from letta_client import CreateBlock, EmbeddingConfig, LlmConfig

    llm = LlmConfig(model="fake-model", model_endpoint_type="openai", model_endpoint=fake_llm_url, context_window=8192)
    emb = EmbeddingConfig(
        embedding_endpoint_type="openai",
        embedding_endpoint=fake_llm_url,
        embedding_model="text-embedding-ada-002",
        embedding_dim=1536,
        embedding_chunk_size=300,
    )
    ids = []
    for i in range(2):
        blocks = [CreateBlock(label="persona", value=f"I am bench agent {i}"), CreateBlock(label="human", value="user")]
        agent = client.agents.create(
            name=f"bench-{target}-agent-{i}-{time.time_ns()}", memory_blocks=blocks, llm_config=llm, embedding_config=emb
        )
        ids.append(agent.id)
    return ids


def run_target(
    target: str, base_url: str, n: int, warmup: int, fake_llm_url: str, counter: DynamoCounter | None
) -> dict[str, Any]:
    from letta_client import Letta, RoundRobinManager

    client = Letta(base_url=base_url, timeout=120)
    result: dict[str, Any] = {"target": target, "base_url": base_url, "n": n, "warmup": warmup, "operations": {}}
    try:
        health = client.health.check()
        result["server_version"] = getattr(health, "version", None)
    except Exception as exc:
        result["server_version"] = f"unknown ({describe_error(exc)})"

    def phase(name: str) -> AbstractContextManager[None]:
        return counter.phase_of(name) if counter else nullcontext()

    with phase("setup"):
        agents = make_agents(client, target, fake_llm_url)
        warm = [client.groups.create(agent_ids=agents, description="warm-up").id for _ in range(warmup)]
        for g in warm:
            client.groups.retrieve(g)
            client.groups.list(limit=10)
        for g in warm:
            client.groups.delete(g)

    ops: dict[str, Any] = result["operations"]
    created: list[str] = []

    def series(name: str, calls: list[Callable[[], Any]], after: Callable[[Any], None] | None = None) -> None:
        samples: list[float] = []
        errors: list[str] = []
        last: Any = None
        with phase(name):
            for fn in calls:
                t0 = time.perf_counter()
                try:
                    last = fn()
                except Exception as exc:
                    errors.append(describe_error(exc))
                    continue
                samples.append((time.perf_counter() - t0) * 1000)
                if after is not None:
                    after(last)
        entry = summarize(samples)
        if errors:
            entry["errors"] = len(errors)
            entry["first_error"] = errors[0]
            print(f"[{target}] {name}: {len(errors)}/{len(calls)} calls failed; first: {errors[0]}", file=sys.stderr)
        if counter:
            entry["dynamodb"] = counter.report(name, len(samples) + len(errors))
        entry["_last"] = last
        ops[name] = entry

    t_all = time.perf_counter()
    rr = RoundRobinManager(max_turns=2)
    series(
        "create",
        [lambda i=i: client.groups.create(agent_ids=agents, description=f"bench {i}", manager_config=rr) for i in range(n)],
        after=lambda g: created.append(g.id),
    )
    series("retrieve", [lambda g=g: client.groups.retrieve(g) for g in created])
    series("list10", [lambda: client.groups.list(limit=10) for _ in range(n)])
    series("list_all", [lambda: client.groups.list() for _ in range(n)])
    if isinstance(ops["list_all"].get("_last"), list):
        ops["list_all"]["groups_returned"] = len(ops["list_all"]["_last"])
    # count: probe once (0.7.7 answers 404); a probe failure means "not supported", not a bug
    try:
        with phase("count-probe"):
            probe = client.groups.count()
    except Exception as exc:
        ops["count"] = {"n": 0, "unsupported": describe_error(exc)}
    else:
        series("count", [lambda: client.groups.count() for _ in range(n)])
        ops["count"]["value"] = probe
    series("modify", [lambda g=g: client.groups.modify(g, description=f"modified {g}") for g in created])
    series("delete", [lambda g=g: client.groups.delete(g) for g in created])
    result["total_wall_s"] = round(time.perf_counter() - t_all, 2)

    with phase("teardown"):
        for a in agents:
            try:
                client.agents.delete(a)
            except Exception as exc:
                print(f"[{target}] agent delete failed: {describe_error(exc)}", file=sys.stderr)
    for entry in ops.values():
        entry.pop("_last", None)
    if counter:
        result["dynamodb_setup"] = counter.report("setup", 1)
        result["dynamodb_counter_intact"] = counter.still_installed()
        if not result["dynamodb_counter_intact"]:
            print(
                "[ours] warning: lettagroups.dal.table.client() was replaced during the run; counts may be low", file=sys.stderr
            )
    return result


def run_ours(n: int, warmup: int, fake_llm_url: str) -> dict[str, Any]:
    sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT / "local")]
    for noisy in ("werkzeug", "botocore", "moto", "uvicorn", "lettagroups_local"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from lettagroups_local.emulation import free_port
    from lettagroups_local.server import LocalServer

    port = free_port()
    server = LocalServer(host="127.0.0.1", port=port)
    server.start_background()
    try:
        counter = DynamoCounter()
        counter.install()
        try:
            return run_target("ours", f"http://127.0.0.1:{port}", n, warmup, fake_llm_url, counter)
        finally:
            counter.uninstall()
    finally:
        server.shutdown()


# ---------------------------------------------------------------------------------------------- reporting


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("letta-client", "httpx", "boto3", "botocore", "moto", "aws-lambda-powertools", "uvicorn"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def _fmt(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "—"
    if entry.get("unsupported"):
        return "n/a (404)" if " 404" in entry["unsupported"] else "n/a"
    if not entry.get("n"):
        return f"failed ({entry.get('errors', 0)} errors)"
    text = f"{entry['median_ms']:.2f} / {entry['p95_ms']:.2f}"
    if entry.get("errors"):
        text += f" ({entry['errors']} failed)"
    return text


def _ratio(ours: dict[str, Any] | None, peer: dict[str, Any] | None) -> str:
    if not ours or not peer or not ours.get("n") or not peer.get("n"):
        return "n/a"
    return f"{ours['median_ms'] / peer['median_ms']:.2f}×"


def _dynamo(entry: dict[str, Any] | None) -> str:
    if not entry or "dynamodb" not in entry:
        return "—"
    d = entry["dynamodb"]
    ops = ", ".join(f"{k} {v:g}" for k, v in d["by_operation_per_call"].items())
    return f"{d['per_call']:g} ({ops})" if ops else f"{d['per_call']:g}"


def markdown(report: dict[str, Any]) -> str:
    ours = report["results"].get("ours")
    peer = report["results"].get("peer")
    n = report["n"]
    lines = []
    if ours and peer:
        lines.append(
            "| Operation | ours median / p95 (ms) | peer median / p95 (ms) | ratio ours/peer (median) | DynamoDB requests per call |"
        )
        lines.append("|---|---|---|---|---|")
        for op in OPERATIONS:
            o, p = ours["operations"].get(op), peer["operations"].get(op)
            lines.append(f"| {LABELS[op].format(n=n)} | {_fmt(o)} | {_fmt(p)} | {_ratio(o, p)} | {_dynamo(o)} |")
    else:
        only = ours or peer
        assert only is not None
        with_dynamo = only is ours
        head = "| Operation | median / p95 / p99 / mean (ms)" + (" | DynamoDB requests per call |" if with_dynamo else " |")
        lines.append(head)
        lines.append("|---|---|" + ("---|" if with_dynamo else ""))
        for op in OPERATIONS:
            e = only["operations"].get(op) or {}
            cell = (
                _fmt(e)
                if not e.get("n")
                else f"{e['median_ms']:.2f} / {e['p95_ms']:.2f} / {e['p99_ms']:.2f} / {e['mean_ms']:.2f}"
            )
            row = f"| {LABELS[op].format(n=n)} | {cell} |"
            if with_dynamo:
                row += f" {_dynamo(e)} |"
            lines.append(row)
    if ours:
        lines += ["", breakdown_markdown(ours, n)]
    return "\n".join(lines)


def breakdown_markdown(ours: dict[str, Any], n: int) -> str:
    """Where our time goes: mean latency vs. mean time inside DynamoDB calls (boto3 + HTTP + moto), and GC pauses."""
    lines = [
        "| Operation (ours) | mean (ms) | in DynamoDB calls, mean (ms) | rest: HTTP, gateway, handler, SDK (ms) | GC gen2 pauses (count, ms) |",
        "|---|---|---|---|---|",
    ]
    for op in OPERATIONS:
        e = ours["operations"].get(op) or {}
        d = e.get("dynamodb")
        if not e.get("n") or not d:
            continue
        gen2 = f"{d['gc_collections'].get('gen2', 0)}, {d['gc_pause_ms'].get('gen2', 0):g}"
        rest = e["mean_ms"] - d["dynamodb_ms_per_call"]
        lines.append(f"| {LABELS[op].format(n=n)} | {e['mean_ms']:.2f} | {d['dynamodb_ms_per_call']:.2f} | {rest:.2f} | {gen2} |")
    return "\n".join(lines)


def detail_table(result: dict[str, Any]) -> str:
    lines = [f"{result['target']} ({result['base_url']}, server {result.get('server_version')}, wall {result['total_wall_s']} s)"]
    lines.append(f"  {'operation':<10} {'n':>4} {'median':>8} {'p95':>8} {'p99':>8} {'mean':>8} {'max':>8}")
    for op in OPERATIONS:
        e = result["operations"].get(op) or {}
        if not e.get("n"):
            lines.append(f"  {op:<10} {'-':>4}  {e.get('unsupported') or e.get('first_error') or ''}")
            continue
        lines.append(
            f"  {op:<10} {e['n']:>4} {e['median_ms']:>8.2f} {e['p95_ms']:>8.2f} {e['p99_ms']:>8.2f} {e['mean_ms']:>8.2f} {e['max_ms']:>8.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--target", choices=["ours", "peer", "both"], default="ours")
    parser.add_argument("--n", type=int, default=50, help="timed calls per operation (default 50; the baseline uses 200)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--peer-url", default="http://127.0.0.1:8284", help="base URL of a running Letta 0.7.x server")
    parser.add_argument("--fake-llm-url", default="http://127.0.0.1:18999/v1", help="model endpoint for the agents' config")
    parser.add_argument("--out", type=Path, help="write the full report (with every sample) as JSON")
    parser.add_argument(
        "--markdown", action="store_true", help="print a README-ready markdown table (the default when --out is not given)"
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be >= 1")

    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.machine()},
        "versions": versions(),
        "n": args.n,
        "warmup": args.warmup,
        "method": "sequential, one letta-client instance, perf_counter around each SDK call; client and server on one machine",
        "results": {},
    }
    if args.target in ("ours", "both"):
        report["results"]["ours"] = run_ours(args.n, args.warmup, args.fake_llm_url)
        print(detail_table(report["results"]["ours"]), file=sys.stderr)
    if args.target in ("peer", "both"):
        report["results"]["peer"] = run_target("peer", args.peer_url, args.n, args.warmup, args.fake_llm_url, None)
        print(detail_table(report["results"]["peer"]), file=sys.stderr)

    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    if args.markdown or not args.out:
        print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
