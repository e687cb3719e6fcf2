"""Servers the tests start and stop: the local server (`make run`) in a subprocess on a free port, and what starting
and stopping a server process takes (`lettagroups_local.launch`: waiting until it serves, stopping it; here, a port
nothing listens on)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from lettagroups_local.launch import start_local_server, stop_process

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def local_server(extra_env: dict[str, str] | None = None, log_name: str = "local-server.log") -> Iterator[str]:
    """`make run` in a subprocess on a free port, with `extra_env`; yields its base URL."""
    cache = ROOT / ".pytest_cache"
    log = open(cache / log_name, "w") if cache.exists() else subprocess.DEVNULL  # noqa: SIM115 - for the server's life
    try:
        proc, url = start_local_server(extra_env, log, timeout=60)
    except RuntimeError as exc:
        raise RuntimeError(f"local server did not start; see .pytest_cache/{log_name}") from exc
    try:
        yield url
    finally:
        stop_process(proc)
