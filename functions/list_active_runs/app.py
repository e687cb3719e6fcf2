"""GET /v1/runs/active: the user's runs still created or running; `agent_ids` keeps those of these agents."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import runs
from lettagroups.models.runs import Run

app = create_app()


@app.get("/v1/runs/active", operation_id="list_active_runs", responses=ok(list[Run]))
def list_active_runs(agent_ids: Annotated[Optional[list[str]], Query(max_length=100)] = None) -> Response[Any]:
    return json_response(runs.list_runs(current_actor(app), agent_ids, active_only=True))


lambda_handler = make_handler(app)
