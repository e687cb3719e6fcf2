"""DELETE /v1/agents/{agent_id}: sleeptime managers take their group along (contract §9)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import agents
from lettagroups.models.agents import AgentDeleted

app = create_app()


@app.delete("/v1/agents/<agent_id>", operation_id="delete_agent", responses=ok(AgentDeleted))
def delete_agent(agent_id: str) -> Response[Any]:
    return json_response(agents.delete_agent(current_actor(app), agent_id))


lambda_handler = make_handler(app)
