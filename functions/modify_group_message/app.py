"""PATCH /v1/groups/{group_id}/messages/{message_id}: edit one transcript message (contract §4.9)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import group_history
from lettagroups.models.messages import LettaMessage, MessageUpdate

app = create_app()


@app.patch("/v1/groups/<group_id>/messages/<message_id>", operation_id="modify_group_message", responses=ok(LettaMessage))
def modify_group_message(group_id: str, message_id: str, request: Annotated[MessageUpdate, Body()]) -> Response[Any]:
    return json_response(group_history.modify_message(current_actor(app), group_id, message_id, request))


lambda_handler = make_handler(app)
