"""POST /v1/agents/{agent_id}/messages/async: message an agent and answer with its Run at once (contract §10, §12a)."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.api.clients import IDEMPOTENCY_KEY_MAX, retried_header
from lettagroups.logic import agent_messages
from lettagroups.models.messages import LettaAsyncRequest
from lettagroups.models.runs import Run

app = create_app()


@app.post("/v1/agents/<agent_id>/messages/async", operation_id="create_agent_message_async", responses=ok(Run))
def create_agent_message_async(
    agent_id: str,
    request: Annotated[LettaAsyncRequest, Body()],
    idempotency_key: Annotated[Optional[str], Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX)] = None,
    retry_count: Annotated[Optional[str], Header(alias="x-stainless-retry-count", max_length=10)] = None,
) -> Response[Any]:
    return json_response(
        agent_messages.send_message_async(
            current_actor(app), agent_id, request, idempotency_key=idempotency_key, retried=retried_header(retry_count)
        )
    )


lambda_handler = make_handler(app)
