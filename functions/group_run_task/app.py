"""The Step Functions task of group runs: one `action` per state (see statemachines/group-run.asl.json).

Not behind API Gateway. Errors propagate as Lambda errors whose type names
(`RetryableStepError`, `StepFailedError`) are what the state machine's Retry and Catch match.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lettagroups.observability import logger, metrics, tracer
from lettagroups.orchestration.tasks import dispatch


@logger.inject_lambda_context
@metrics.log_metrics(raise_on_empty_metrics=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(run_id=(event.get("run") or {}).get("run_id"), action=event.get("action"))
    return dispatch(event)
