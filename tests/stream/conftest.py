"""Fixtures for the streaming tests: the real local server (`server_url`) over raw httpx and letta-client 0.1.138."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from support.trackers import Objects


@pytest.fixture
def objects(http: httpx.Client) -> Iterator[Objects]:
    tracker = Objects(http)
    yield tracker
    tracker.cleanup()
