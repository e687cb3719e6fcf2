"""POST /v1/groups: create a group; `X-Project` sets its project (contract §4.4)."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups
from lettagroups.models.groups import Group, GroupCreate

app = create_app()


@app.post("/v1/groups", operation_id="create_group", responses=ok(Group))
def create_group(
    request: Annotated[GroupCreate, Body()],
    x_project: Annotated[Optional[str], Header(alias="X-Project", max_length=500)] = None,
) -> Response[Any]:
    return json_response(groups.create_group(current_actor(app), request, project_id=x_project or None))


lambda_handler = make_handler(app)
