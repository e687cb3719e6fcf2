"""The local server (`make run`) started in a subprocess on a free port, as the benchmarks and the tests start it:
with its own emulation and the model mode `make run` has (agents use their configured models), whatever the
parent's environment says."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Union

ROOT = Path(__file__).resolve().parents[2]
# What the parent may have set for its own emulation or modes; the subprocess decides these itself.
INHERITED = (
    "DYNAMODB_ENDPOINT_URL",
    "MOTO_PORT",
    "TABLE_NAME",
    "STATE_MACHINE_ARN",
    "STEPFUNCTIONS_ENDPOINT_URL",
    "AUTH_MODE",
    "ORIGIN_SECRET",
    "SERVER_PASSWORD",
    "LETTA_MODEL_MODE",
)


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Terminate a server process, killing it if it has not exited within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_until_serving(proc: subprocess.Popen[Any], probe: Callable[[], bool], timeout: float) -> bool:
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


def start_local_server(
    extra_env: dict[str, str] | None = None, log: Union[IO[Any], int] = subprocess.DEVNULL, timeout: float = 90
) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m lettagroups_local` on a free port with `extra_env`, once it answers its health check: the process
    and its base URL. RuntimeError when it does not start."""
    import httpx

    from .emulation import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in INHERITED}
    env.update({"PORT": str(port), **(extra_env or {})})
    proc = subprocess.Popen([sys.executable, "-m", "lettagroups_local"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not wait_until_serving(proc, lambda: httpx.get(f"{url}/v1/health/", timeout=1).status_code == 200, timeout):
        raise RuntimeError("the local server did not start")
    return proc, url
