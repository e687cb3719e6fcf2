"""The fake OpenAI-compatible server (tests/fake_openai.py), one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_openai import FakeOpenAI, tool_call_answer

__all__ = ["FakeOpenAI", "tool_call_answer"]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()
