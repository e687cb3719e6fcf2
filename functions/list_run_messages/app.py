"""GET /v1/runs/{run_id}/messages: the messages a run produced (contract §12a)."""

from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import runs
from lettagroups.models.messages import LettaMessage

app = create_app()


@app.get("/v1/runs/<run_id>/messages", operation_id="list_run_messages", responses=ok(list[LettaMessage]))
def list_run_messages(
    run_id: str,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    role: Annotated[Optional[Literal["user", "system", "assistant", "tool"]], Query()] = None,
) -> Response[Any]:
    return json_response(
        runs.list_run_messages(current_actor(app), run_id, before=before, after=after, limit=limit, order=order, role=role)
    )


lambda_handler = make_handler(app)
