"""POST /v1/agents/{agent_id}/messages: message an agent and answer with a LettaResponse (contract §10).

An agent that manages a sleeptime, voice_sleeptime, supervisor or dynamic group runs that group's pattern; any other
agent runs alone. A resent send joins or resumes its run (lettagroups/logic/sending.py)."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.api.clients import IDEMPOTENCY_KEY_MAX, retried_header
from lettagroups.logic import agent_messages
from lettagroups.models.messages import LettaRequest, LettaResponse

app = create_app()


@app.post("/v1/agents/<agent_id>/messages", operation_id="send_message", responses=ok(LettaResponse))
def send_message(
    agent_id: str,
    request: Annotated[LettaRequest, Body()],
    idempotency_key: Annotated[Optional[str], Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX)] = None,
    retry_count: Annotated[Optional[str], Header(alias="x-stainless-retry-count", max_length=10)] = None,
) -> Response[Any]:
    return json_response(
        agent_messages.send_message(
            current_actor(app), agent_id, request, idempotency_key=idempotency_key, retried=retried_header(retry_count)
        )
    )


lambda_handler = make_handler(app)
