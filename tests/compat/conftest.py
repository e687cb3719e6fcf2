"""Fixtures for compatibility tests: letta-client 0.1.138 and raw httpx against the real local server.

Every test shares the server's default organization (local open mode), so tests never assume an empty
organization: they track what they create, compare counts before and after, and clean up behind themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from letta_client import Letta

from support.trackers import Tracker


@pytest.fixture
def made(letta: Letta) -> Iterator[Tracker]:
    tracker = Tracker(letta)
    yield tracker
    tracker.cleanup()
