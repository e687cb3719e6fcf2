"""Shared fixtures.

- `emulation`: one moto server for the whole session, with the table built from template.yaml.
  Tests isolate themselves by organization (every key starts with it), not by table.
- `actor`: a fresh organization and user per test.
- `server_url`: the real local server (`python -m lettagroups_local`) in a subprocess, for compatibility tests.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "letta-groups-test")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LettaGroupsTest")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def emulation() -> Iterator[object]:
    from lettagroups_local import emulation as emu

    running = emu.start(table_name="letta-groups-test")
    yield running
    running.stop()


@pytest.fixture
def actor(emulation: object):
    from lettagroups.models.identity import Actor

    return Actor(user_id=f"user-{uuid.uuid4()}", organization_id=f"org-{uuid.uuid4()}")


def _free_port() -> int:
    from lettagroups_local.emulation import free_port

    return free_port()


@contextlib.contextmanager
def local_server(extra_env: dict[str, str] | None = None, log_name: str = "local-server.log") -> Iterator[str]:
    """`make run` in a subprocess on a free port, with `extra_env`; yields its base URL."""
    import httpx

    port = _free_port()
    env = {**os.environ, "PORT": str(port), **(extra_env or {})}
    for name in ("DYNAMODB_ENDPOINT_URL", "MOTO_PORT", "TABLE_NAME", "STATE_MACHINE_ARN", "STEPFUNCTIONS_ENDPOINT_URL"):
        env.pop(name, None)  # the subprocess starts its own emulation
    # Like `make run`: agents use their configured models unless a test forces the offline one explicitly.
    for name in ("AUTH_MODE", "ORIGIN_SECRET", "SERVER_PASSWORD", "LETTA_MODEL_MODE"):
        if name not in (extra_env or {}):
            env.pop(name, None)
    cache = ROOT / ".pytest_cache"
    log = open(cache / log_name, "w") if cache.exists() else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "lettagroups_local"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(f"{url}/v1/health/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"local server did not start; see .pytest_cache/{log_name}")
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def start_local_server():
    """`local_server` for tests that need a differently configured server (e.g. password mode)."""
    return local_server


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """`make run` in a subprocess on a free port; yields its base URL."""
    with local_server() as url:
        yield url


@pytest.fixture(scope="session")
def letta(server_url: str):
    from letta_client import Letta

    return Letta(base_url=server_url, timeout=30)


@pytest.fixture(scope="session")
def http(server_url: str):
    """Plain httpx: no redirects (the API answers every path directly, contract §1), no SSE Accept header."""
    import httpx

    with httpx.Client(base_url=server_url, timeout=30, follow_redirects=False) as client:
        yield client


@pytest.fixture
def user_headers() -> dict[str, str]:
    """Nothing: local open mode acts as the default user."""
    return {}


@pytest.fixture(scope="session")
def workflows(emulation: object) -> dict[str, str]:
    """The state machines of template.yaml deployed into the session's moto, tasks in-process."""
    from lettagroups_local import workflows as wf

    os.environ.setdefault("LETTA_MODEL_MODE", "offline")
    arns = wf.deploy(emulation.endpoint_url)  # type: ignore[attr-defined]
    wf.configure(arns)
    from lettagroups.orchestration import starter

    starter._client.cache_clear()
    return arns
