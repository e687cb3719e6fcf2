"""Fixtures for the streaming tests: the real local server (`server_url`) over raw httpx and letta-client 0.1.138."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from letta_client import Letta

from stream_helpers import Objects


@pytest.fixture(scope="session")
def letta(server_url: str) -> Letta:
    return Letta(base_url=server_url, timeout=30)


@pytest.fixture(scope="session")
def http(server_url: str) -> Iterator[httpx.Client]:
    # Plain httpx: no Accept: text/event-stream, no redirects (the API answers every path directly).
    with httpx.Client(base_url=server_url, timeout=30, follow_redirects=False) as client:
        yield client


@pytest.fixture
def objects(http: httpx.Client) -> Iterator[Objects]:
    tracker = Objects(http)
    yield tracker
    tracker.cleanup()
