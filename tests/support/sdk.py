"""letta-client 0.1.138 request pieces and error checks the compatibility tests share, and where the other SDK generations live (they
run as scripts, tests/compat/sdk_scripts/, in subprocesses)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from letta_client import LlmConfig, MessageCreate
from letta_client.core.api_error import ApiError

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "compat" / "sdk_scripts"
SDK_1_7 = ROOT / ".venv" / "sdk-1.7.0"  # letta-client 1.7.0, installed apart by `make venv` (see the Makefile)
TS_SDK = ROOT / "node_modules" / "@letta-ai" / "letta-client"


def say(text: str) -> list[MessageCreate]:
    """A send's `messages`: one user message."""
    return [MessageCreate(role="user", content=text)]


def offline_llm(faults: str) -> LlmConfig:
    """The built-in offline model with a fault spec in its name (agent/providers/offline_faults.py)."""
    return LlmConfig(model=f"letta-offline?{faults}", model_endpoint_type="offline", context_window=16384)


def api_status(call: Callable[[], Any]) -> tuple[int, Any]:
    """Run an SDK call that must fail; return its status and body."""
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value.status_code or 0, caught.value.body


def api_error(call: Callable[[], Any], status: int) -> Any:
    """The SDK call fails with `status`; returns the parsed error body."""
    actual, body = api_status(call)
    assert actual == status, body
    return body
