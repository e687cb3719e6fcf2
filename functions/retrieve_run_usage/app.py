"""GET /v1/runs/{run_id}/usage (contract §12a)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import runs
from lettagroups.models.runs import RunUsage

app = create_app()


@app.get("/v1/runs/<run_id>/usage", operation_id="retrieve_run_usage", responses=ok(RunUsage))
def retrieve_run_usage(run_id: str) -> Response[Any]:
    return json_response(runs.retrieve_run_usage(current_actor(app), run_id))


lambda_handler = make_handler(app)
