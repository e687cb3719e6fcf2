"""POST /v1/groups/{group_id}/messages: run the group and answer with a LettaResponse (contract §4.7)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import group_messages
from lettagroups.models.messages import LettaRequest, LettaResponse

app = create_app()


@app.post("/v1/groups/<group_id>/messages", operation_id="send_group_message", responses=ok(LettaResponse))
def send_group_message(group_id: str, request: Annotated[LettaRequest, Body()]) -> Response[Any]:
    return json_response(group_messages.send_message(current_actor(app), group_id, request))


lambda_handler = make_handler(app)
