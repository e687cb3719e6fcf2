"""What every task knows about the run it works for (the `$.run` object of the state machine)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..models.identity import Actor

MAX_TURNS_CAP = int(os.environ.get("MAX_TURNS_CAP", "50"))


@dataclass(frozen=True)
class RunContext:
    org_id: str
    user_id: str
    group_id: str
    run_id: str

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, organization_id=self.org_id)

    @property
    def conversation_id(self) -> str:
        return self.group_id

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RunContext:
        return cls(org_id=state["org_id"], user_id=state["user_id"], group_id=state["group_id"], run_id=state["run_id"])


class RetryableStepError(Exception):
    """A model or storage failure worth retrying; the state machine retries it with backoff."""


class StepFailedError(Exception):
    """A failure that retrying will not fix; the run ends with this error."""
