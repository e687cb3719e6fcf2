"""POST /v1/groups/{group_id}/messages: run the group and answer with a LettaResponse (contract §4.7).

A resent send (an SDK retrying a 5xx, or an `Idempotency-Key` seen again) joins or resumes its run instead of running
it twice (lettagroups/logic/sending.py)."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.api.clients import IDEMPOTENCY_KEY_MAX, retried_header
from lettagroups.logic import group_messages
from lettagroups.models.messages import LettaRequest, LettaResponse

app = create_app()


@app.post("/v1/groups/<group_id>/messages", operation_id="send_group_message", responses=ok(LettaResponse))
def send_group_message(
    group_id: str,
    request: Annotated[LettaRequest, Body()],
    idempotency_key: Annotated[Optional[str], Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX)] = None,
    retry_count: Annotated[Optional[str], Header(alias="x-stainless-retry-count", max_length=10)] = None,
) -> Response[Any]:
    return json_response(
        group_messages.send_message(
            current_actor(app), group_id, request, idempotency_key=idempotency_key, retried=retried_header(retry_count)
        )
    )


lambda_handler = make_handler(app)
