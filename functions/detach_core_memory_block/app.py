"""PATCH /v1/agents/{agent_id}/core-memory/blocks/detach/{block_id}: detach a block (which stays);
answers the AgentState."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import core_memory
from lettagroups.models.agents import AgentState

app = create_app()


@app.patch(
    "/v1/agents/<agent_id>/core-memory/blocks/detach/<block_id>",
    operation_id="detach_core_memory_block",
    responses=ok(AgentState),
)
def detach_core_memory_block(agent_id: str, block_id: str) -> Response[Any]:
    return json_response(core_memory.detach_block(current_actor(app), agent_id, block_id))


lambda_handler = make_handler(app)
