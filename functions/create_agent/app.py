"""POST /v1/agents: create an agent with its memory blocks and tools."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import agents
from lettagroups.models.agents import AgentState, CreateAgent

app = create_app()


@app.post("/v1/agents", operation_id="create_agent", responses=ok(AgentState))
def create_agent(request: Annotated[CreateAgent, Body()]) -> Response[Any]:
    return json_response(agents.create_agent(current_actor(app), request))


lambda_handler = make_handler(app)
