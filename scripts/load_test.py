#!/usr/bin/env python3
"""Bounded load test on loopback: N concurrent clients mixing CRUD and group sends against the
local server, then a consistency audit (no errors, no lost writes).

    .venv/bin/python scripts/load_test.py                      # 50 clients, 60 s, starts its own server
    .venv/bin/python scripts/load_test.py --clients 50 --seconds 60 --url http://127.0.0.1:8283 --out docs/bench/load.json

Every client owns its groups, so the one-run-per-group rule (409) never fires by design; each
client runs one request at a time. Afterwards it checks: the group count equals creates minus
deletes, every surviving group is retrievable with its last description, and every group's
transcript holds exactly one user message and two assistant replies per completed send.
Exit code 0 only with zero errors and zero lost writes. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "local")]
from benchstats import percentile  # noqa: E402

from lettagroups_local.launch import start_local_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OPS = ["create", "retrieve", "list10", "count", "modify", "send", "messages", "delete"]
WEIGHTS = [2, 4, 3, 3, 2, 2, 3, 1]


@dataclass
class ClientState:
    agents: list[str] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # id -> last description
    sends: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    created: int = 0
    deleted: int = 0


@dataclass
class Totals:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)


async def _call(http: httpx.AsyncClient, totals: Totals, op: str, method: str, path: str, **kwargs: Any) -> Any:
    started = time.perf_counter()
    response = await http.request(method, path, **kwargs)
    totals.latencies[op].append((time.perf_counter() - started) * 1000)
    if response.status_code != 200:
        totals.errors.append(f"{op} {method} {path}: {response.status_code} {response.text[:200]}")
        return None
    return response.json()


async def _new_group(http: httpx.AsyncClient, totals: Totals, state: ClientState, n: int) -> None:
    description = f"load group {n}"
    body = {
        "agent_ids": state.agents,
        "description": description,
        "manager_config": {"manager_type": "round_robin", "max_turns": 2},
    }
    group = await _call(http, totals, "create", "POST", "/v1/groups/", json=body)
    if group:
        state.groups[group["id"]] = description
        state.created += 1


async def client_loop(index: int, base_url: str, deadline: float, totals: Totals, rng: random.Random) -> ClientState:
    state = ClientState()
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        for name in ("a", "b"):
            agent = await _call(
                http,
                totals,
                "setup",
                "POST",
                "/v1/agents/",
                json={"name": f"c{index}-{name}", "memory_blocks": [{"label": "persona", "value": f"I am {name}."}]},
            )
            if agent:
                state.agents.append(agent["id"])
        await _new_group(http, totals, state, 0)
        n = 1
        while time.monotonic() < deadline:
            op = rng.choices(OPS, WEIGHTS)[0]
            if op == "create" or not state.groups:
                await _new_group(http, totals, state, n)
                n += 1
                continue
            group_id = rng.choice(sorted(state.groups))
            if op == "retrieve":
                await _call(http, totals, op, "GET", f"/v1/groups/{group_id}")
            elif op == "list10":
                await _call(http, totals, op, "GET", "/v1/groups/", params={"limit": 10})
            elif op == "count":
                await _call(http, totals, op, "GET", "/v1/groups/count")
            elif op == "modify":
                description = f"modified {n}"
                n += 1
                if await _call(http, totals, op, "PATCH", f"/v1/groups/{group_id}", json={"description": description}):
                    state.groups[group_id] = description
            elif op == "send":
                body = {"messages": [{"role": "user", "content": f"client {index} says hello {n}"}]}
                n += 1
                if await _call(http, totals, op, "POST", f"/v1/groups/{group_id}/messages", json=body):
                    state.sends[group_id] += 1
            elif op == "messages":
                await _call(http, totals, op, "GET", f"/v1/groups/{group_id}/messages", params={"limit": 10})
            elif op == "delete" and len(state.groups) > 1:
                if await _call(http, totals, op, "DELETE", f"/v1/groups/{group_id}"):
                    del state.groups[group_id]
                    state.deleted += 1
    return state


def audit(base_url: str, count_before: int, states: list[ClientState]) -> list[str]:
    problems: list[str] = []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        expected = count_before + sum(s.created - s.deleted for s in states)
        actual = http.get("/v1/groups/count").json()
        if actual != expected:
            problems.append(f"count {actual} != expected {expected}")
        for state in states:
            for group_id, description in state.groups.items():
                group = http.get(f"/v1/groups/{group_id}")
                if group.status_code != 200 or group.json()["description"] != description:
                    problems.append(f"group {group_id} lost or stale: {group.status_code} {group.text[:120]}")
                    continue
                messages = http.get(f"/v1/groups/{group_id}/messages", params={"limit": 1000}).json()
                users = sum(1 for m in messages if m["message_type"] == "user_message")
                replies = sum(1 for m in messages if m["message_type"] == "assistant_message")
                sends = state.sends.get(group_id, 0)
                if users != sends or replies != 2 * sends:
                    problems.append(f"group {group_id}: {users} inputs / {replies} replies for {sends} sends")
    return problems


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    return start_local_server()


async def run(base_url: str, clients: int, seconds: float, seed: int) -> dict[str, Any]:
    count_before = httpx.get(f"{base_url}/v1/groups/count", timeout=30).json()
    totals = Totals()
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    states = await asyncio.gather(*(client_loop(i, base_url, deadline, totals, random.Random(seed + i)) for i in range(clients)))
    elapsed = time.monotonic() - started
    problems = audit(base_url, count_before, list(states))
    requests = sum(len(v) for v in totals.latencies.values())
    summary = {
        op: {
            "n": len(v),
            "median_ms": round(statistics.median(v), 1),
            "p95_ms": round(percentile(v, 95), 1),
            "p99_ms": round(percentile(v, 99), 1),
        }
        for op, v in sorted(totals.latencies.items())
        if v
    }
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": requests,
        "throughput_rps": round(requests / elapsed, 1),
        "sends_completed": sum(sum(s.sends.values()) for s in states),
        "errors": totals.errors,
        "lost_writes": problems,
        "operations": summary,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", help="write the JSON result here")
    args = parser.parse_args()
    process = None
    url = args.url
    if not url:
        process, url = start_server()
    try:
        result = asyncio.run(run(url, args.clients, args.seconds, args.seed))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0 if not result["errors"] and not result["lost_writes"] else 1


if __name__ == "__main__":
    sys.exit(main())
