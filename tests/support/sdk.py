"""letta-client 0.1.138 request pieces the compatibility tests share, and where the other SDK generations live (they
run as scripts, tests/compat/sdk_scripts/, in subprocesses)."""

from __future__ import annotations

from pathlib import Path

from letta_client import LlmConfig, MessageCreate

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
