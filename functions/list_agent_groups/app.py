"""GET /v1/agents/{agent_id}/groups: groups the agent participates in (contract §4.12)."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups
from lettagroups.models.groups import Group, ManagerType

app = create_app()


@app.get("/v1/agents/<agent_id>/groups", operation_id="list_agent_groups", responses=ok(list[Group]))
def list_agent_groups(
    agent_id: str,
    manager_type: Annotated[Optional[ManagerType], Query()] = None,
) -> Response[Any]:
    return json_response(groups.list_agent_groups(current_actor(app), agent_id, manager_type.value if manager_type else None))


lambda_handler = make_handler(app)
