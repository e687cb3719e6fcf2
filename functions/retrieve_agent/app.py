"""GET /v1/agents/{agent_id}."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import agents
from lettagroups.models.agents import AgentState

app = create_app()


@app.get("/v1/agents/<agent_id>", operation_id="retrieve_agent", responses=ok(AgentState))
def retrieve_agent(agent_id: str) -> Response[Any]:
    return json_response(agents.retrieve_agent(current_actor(app), agent_id))


lambda_handler = make_handler(app)
