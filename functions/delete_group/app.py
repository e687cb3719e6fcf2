"""DELETE /v1/groups/{group_id}: the group goes; agents and messages stay (contract §4.6)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups
from lettagroups.models.groups import GroupDeleted

app = create_app()


@app.delete("/v1/groups/<group_id>", operation_id="delete_group", responses=ok(GroupDeleted))
def delete_group(group_id: str) -> Response[Any]:
    return json_response(groups.delete_group(current_actor(app), group_id))


lambda_handler = make_handler(app)
