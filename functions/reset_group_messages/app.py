"""PATCH /v1/groups/{group_id}/reset-messages: delete the whole transcript; answers JSON null (contract §4.11)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import group_history

app = create_app()


@app.patch("/v1/groups/<group_id>/reset-messages", operation_id="reset_group_messages", responses=ok(None))
def reset_group_messages(group_id: str) -> Response[Any]:
    group_history.reset_messages(current_actor(app), group_id)
    return json_response(None)


lambda_handler = make_handler(app)
