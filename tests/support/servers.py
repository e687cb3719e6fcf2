"""Servers the tests start and stop: the local server (`make run`) in a subprocess on a free port, and what starting
and stopping a server process takes (waiting until it serves, stopping it, a port nothing listens on)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate a server process, killing it if it has not exited within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_until_serving(proc: subprocess.Popen, probe: Callable[[], bool], timeout: float) -> bool:
    """Poll `probe` (an HTTP request that says whether the server is up) until it says so: True; or, once the process
    has exited or `timeout` seconds have passed, kill the process: False."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if probe():
                return True
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            return False
        time.sleep(0.1)


@contextlib.contextmanager
def local_server(extra_env: dict[str, str] | None = None, log_name: str = "local-server.log") -> Iterator[str]:
    """`make run` in a subprocess on a free port, with `extra_env`; yields its base URL."""
    import httpx

    from lettagroups_local.emulation import free_port

    port = free_port()
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
    if not wait_until_serving(proc, lambda: httpx.get(f"{url}/v1/health/", timeout=1).status_code == 200, timeout=60):
        raise RuntimeError(f"local server did not start; see .pytest_cache/{log_name}")
    try:
        yield url
    finally:
        stop_process(proc)
