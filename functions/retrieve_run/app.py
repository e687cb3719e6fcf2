"""GET /v1/runs/{run_id}: status, usage and stop reason of a group run (contract §12a)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import runs
from lettagroups.models.runs import Run

app = create_app()


@app.get("/v1/runs/<run_id>", operation_id="retrieve_run", responses=ok(Run))
def retrieve_run(run_id: str) -> Response[Any]:
    return json_response(runs.retrieve_run(current_actor(app), run_id))


lambda_handler = make_handler(app)
