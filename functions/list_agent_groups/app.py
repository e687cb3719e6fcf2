"""GET /v1/agents/{agent_id}/groups: groups the agent participates in (contract §4.12)."""

from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups
from lettagroups.models.groups import Group, ListOrder

app = create_app()


@app.get("/v1/agents/<agent_id>/groups", operation_id="list_agent_groups", responses=ok(list[Group]))
def list_agent_groups(
    agent_id: str,
    # A plain string, as in Letta: an unknown type matches nothing (contract §4.12).
    manager_type: Annotated[Optional[str], Query(max_length=100)] = None,
    # later Letta's cursors, which letta-client 1.x pages with
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[Optional[int], Query(ge=0, le=1000)] = None,
    order: Annotated[ListOrder, Query()] = "asc",
    order_by: Annotated[Literal["created_at"], Query()] = "created_at",
) -> Response[Any]:
    return json_response(
        groups.list_agent_groups(current_actor(app), agent_id, manager_type, after=after, before=before, limit=limit, order=order)
    )


lambda_handler = make_handler(app)
