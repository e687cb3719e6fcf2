"""Workflow tests run the real ASL in moto's interpreter, with the task handler in-process."""

from __future__ import annotations

import pytest

from lettagroups.models.identity import Actor


@pytest.fixture
def run_env(workflows: dict[str, str], actor: Actor) -> Actor:
    return actor
