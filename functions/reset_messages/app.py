"""PATCH /v1/agents/{agent_id}/reset-messages: delete the messages of the agent's conversation (the group's, for
an agent that runs a group's pattern); answers the AgentState."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import agent_history
from lettagroups.models.agents import AgentState

app = create_app()


@app.patch("/v1/agents/<agent_id>/reset-messages", operation_id="reset_messages", responses=ok(AgentState))
def reset_messages(agent_id: str, add_default_initial_messages: Annotated[bool, Query()] = False) -> Response[Any]:
    # There are no default initial messages to add back here (context is built at each step), so the flag is moot.
    return json_response(agent_history.reset_messages(current_actor(app), agent_id))


lambda_handler = make_handler(app)
