"""GET /v1/groups/{group_id} (contract §4.3)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups
from lettagroups.models.groups import Group

app = create_app()


@app.get("/v1/groups/<group_id>", operation_id="retrieve_group", responses=ok(Group))
def retrieve_group(group_id: str) -> Response[Any]:
    return json_response(groups.retrieve_group(current_actor(app), group_id))


lambda_handler = make_handler(app)
