"""POST /v1/agents: create an agent with its memory blocks and tools; `X-Project` sets its project."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import agents
from lettagroups.models.agents import AgentState, CreateAgent

app = create_app()


@app.post("/v1/agents", operation_id="create_agent", responses=ok(AgentState))
def create_agent(
    request: Annotated[CreateAgent, Body()],
    x_project: Annotated[Optional[str], Header(alias="X-Project", max_length=500)] = None,
) -> Response[Any]:
    return json_response(agents.create_agent(current_actor(app), request, project_id=x_project or None))


lambda_handler = make_handler(app)
