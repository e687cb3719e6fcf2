"""The Step Functions adapter: the only code that talks to Step Functions.

Runs execute on an Express state machine (README, "Group runs"): a synchronous send waits for its execution with
StartSyncExecution and gets the final run state as the execution's output; async sends, streams, continuations and
background passes start executions and return.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

CONNECT_TIMEOUT_S = 2


@dataclass
class Outcome:
    """How a synchronous execution ended: SUCCEEDED (with the final run state), FAILED or TIMED_OUT."""

    status: str
    output: Optional[dict[str, Any]] = None
    error: Optional[str] = None
    cause: Optional[str] = None


class StillRunning(Exception):
    """The synchronous call ran out of time; the run goes on and is followed by its id."""


@lru_cache(maxsize=4)
def _client(read_timeout: float, attempts: int = 3) -> Any:
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("STEPFUNCTIONS_ENDPOINT_URL") or None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S, read_timeout=read_timeout, retries={"max_attempts": attempts, "mode": "standard"}
    )
    return boto3.client("stepfunctions", region_name=region, endpoint_url=endpoint, config=config)


def _arn() -> str:
    return os.environ["STATE_MACHINE_ARN"]


def start_run(run_id: str, state: dict[str, Any], name: Optional[str] = None) -> str:
    """Start an execution for `run_id` (named after it, or `name` for its continuations) and return its ARN."""
    response = _client(10.0).start_execution(stateMachineArn=_arn(), name=name or run_id, input=json.dumps({"run": state}))
    return str(response["executionArn"])


def run_sync(run_id: str, state: dict[str, Any], timeout_s: float, name: Optional[str] = None) -> Outcome:
    """Run an execution to its end and return how it ended; StillRunning when `timeout_s` passes first."""
    from botocore.exceptions import ReadTimeoutError

    try:
        # No SDK retry: a retried call would run the execution a second time.
        response = _client(timeout_s, 1).start_sync_execution(
            stateMachineArn=_arn(), name=name or run_id, input=json.dumps({"run": state})
        )
    except ReadTimeoutError as exc:
        raise StillRunning(run_id) from exc
    output = response.get("output")
    return Outcome(
        status=str(response.get("status")),
        output=json.loads(output) if output else None,
        error=response.get("error"),
        cause=response.get("cause"),
    )
