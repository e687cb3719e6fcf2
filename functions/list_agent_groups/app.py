"""GET /v1/agents/{agent_id}/groups: groups the agent participates in (contract §4.12)."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups
from lettagroups.models.groups import Group

app = create_app()


@app.get("/v1/agents/<agent_id>/groups", operation_id="list_agent_groups", responses=ok(list[Group]))
def list_agent_groups(
    agent_id: str,
    # A plain string, as in Letta: an unknown type matches nothing (contract §4.12).
    manager_type: Annotated[Optional[str], Query(max_length=100)] = None,
) -> Response[Any]:
    return json_response(groups.list_agent_groups(current_actor(app), agent_id, manager_type))


lambda_handler = make_handler(app)
