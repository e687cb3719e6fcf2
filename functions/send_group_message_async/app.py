"""POST /v1/groups/{group_id}/messages/async: start a group run and answer with its Run (contract §12a).

A resent send joins or resumes its run instead of starting a second one (lettagroups/logic/sending.py)."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.api.clients import IDEMPOTENCY_KEY_MAX, retried_header
from lettagroups.logic import group_messages
from lettagroups.models.messages import LettaAsyncRequest
from lettagroups.models.runs import Run

app = create_app()


@app.post("/v1/groups/<group_id>/messages/async", operation_id="send_group_message_async", responses=ok(Run))
def send_group_message_async(
    group_id: str,
    request: Annotated[LettaAsyncRequest, Body()],
    idempotency_key: Annotated[Optional[str], Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX)] = None,
    retry_count: Annotated[Optional[str], Header(alias="x-stainless-retry-count", max_length=10)] = None,
) -> Response[Any]:
    return json_response(
        group_messages.send_message_async(
            current_actor(app), group_id, request, idempotency_key=idempotency_key, retried=retried_header(retry_count)
        )
    )


lambda_handler = make_handler(app)
