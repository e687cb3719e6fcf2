"""Shared fixtures.

- `emulation`: one moto server for the whole session, with the table built from template.yaml.
  Tests isolate themselves by organization (every key starts with it), not by table.
- `actor`: a fresh organization and user per test.
- `server_url`: the real local server (`python -m lettagroups_local`) in a subprocess, for compatibility tests.
- `fake_openai`: a scripted OpenAI-compatible server on a loopback socket (support/fake_openai.py), one per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from support.fake_openai import FakeOpenAI
from support.servers import local_server

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


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()
