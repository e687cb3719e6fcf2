"""The Step Functions adapter: the only code that talks to Step Functions."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError


@lru_cache(maxsize=1)
def _client() -> Any:
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("STEPFUNCTIONS_ENDPOINT_URL") or None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client(
        "stepfunctions", region_name=region, endpoint_url=endpoint, config=Config(connect_timeout=2, read_timeout=10)
    )


def start_run(run_id: str, state: dict[str, Any]) -> str:
    """Start the group-run state machine for `run_id`. The execution is named after the run,
    so a repeated start is refused by Step Functions instead of running twice."""
    arn = os.environ["STATE_MACHINE_ARN"]
    try:
        response = _client().start_execution(stateMachineArn=arn, name=run_id, input=json.dumps({"run": state}))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return f"{arn.replace(':stateMachine:', ':execution:')}:{run_id}"
        raise
    return str(response["executionArn"])


def execution_status(execution_arn: str) -> str:
    """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED (Standard workflows)."""
    return str(_client().describe_execution(executionArn=execution_arn)["status"])
