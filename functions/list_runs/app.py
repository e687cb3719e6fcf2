"""GET /v1/runs: the user's runs, oldest first; `agent_ids` keeps those of these agents (Letta 0.7.7's list_runs).
Later Letta's filters and cursors too (`agent_id`, `active`, `statuses`, `after`/`before`/`limit`/`order`):
letta-client 1.x pages this list with `after`."""

from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import runs
from lettagroups.models.groups import ListOrder
from lettagroups.models.runs import Run

app = create_app()


@app.get("/v1/runs", operation_id="list_runs", responses=ok(list[Run]))
def list_runs(
    agent_ids: Annotated[Optional[list[str]], Query(max_length=100)] = None,
    agent_id: Annotated[Optional[str], Query(max_length=200)] = None,
    active: Annotated[bool, Query()] = False,
    statuses: Annotated[Optional[list[str]], Query(max_length=10)] = None,
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[Optional[int], Query(ge=0, le=1000)] = None,
    order: Annotated[ListOrder, Query()] = "asc",
    order_by: Annotated[Literal["created_at"], Query()] = "created_at",
) -> Response[Any]:
    wanted = [*(agent_ids or []), *([agent_id] if agent_id else [])] or None
    return json_response(
        runs.list_runs(
            current_actor(app),
            wanted,
            active_only=active,
            statuses=statuses,
            after=after,
            before=before,
            limit=limit,
            order=order,
        )
    )


lambda_handler = make_handler(app)
