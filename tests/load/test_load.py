"""A short run of the load test (scripts/load_test.py) as a pass/fail check: concurrent clients
mixing CRUD and sends end with zero errors and zero lost writes. Latency is reported, never asserted;
the full 60 s / 50-client figures are in README."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location("load_test_script", ROOT / "scripts" / "load_test.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def test_fifty_concurrent_clients_lose_nothing(server_url):
    # Given 50 clients, each owning its groups, mixing creates, reads, modifies, deletes and sends
    load = _load_script()
    # When they run concurrently against the local server for a bounded time
    result = asyncio.run(load.run(server_url, clients=50, seconds=12, seed=11))
    # Then no request failed and the audit found every write where it should be
    assert result["errors"] == []
    assert result["lost_writes"] == []
    assert result["sends_completed"] > 0 and result["operations"]["create"]["n"] > 50
