"""PATCH /v1/agents/{agent_id}: partial update."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import agents
from lettagroups.models.agents import AgentState, UpdateAgent

app = create_app()


@app.patch("/v1/agents/<agent_id>", operation_id="modify_agent", responses=ok(AgentState))
def modify_agent(agent_id: str, request: Annotated[UpdateAgent, Body()]) -> Response[Any]:
    return json_response(agents.modify_agent(current_actor(app), agent_id, request))


lambda_handler = make_handler(app)
