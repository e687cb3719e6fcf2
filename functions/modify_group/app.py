"""PATCH /v1/groups/{group_id}: partial update; falsy values are ignored (contract §4.5)."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups
from lettagroups.models.groups import Group, GroupUpdate

app = create_app()


@app.patch("/v1/groups/<group_id>", operation_id="modify_group", responses=ok(Group))
def modify_group(
    group_id: str,
    request: Annotated[GroupUpdate, Body()],
    x_project: Annotated[Optional[str], Header(alias="X-Project", max_length=500)] = None,
) -> Response[Any]:
    return json_response(groups.modify_group(current_actor(app), group_id, request, project_id=x_project or None))


lambda_handler = make_handler(app)
