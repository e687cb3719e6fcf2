"""PATCH /v1/agents/{agent_id}/core-memory/blocks/attach/{block_id}: attach a block; answers the AgentState."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import core_memory
from lettagroups.models.agents import AgentState

app = create_app()


@app.patch(
    "/v1/agents/<agent_id>/core-memory/blocks/attach/<block_id>",
    operation_id="attach_core_memory_block",
    responses=ok(AgentState),
)
def attach_core_memory_block(agent_id: str, block_id: str) -> Response[Any]:
    return json_response(core_memory.attach_block(current_actor(app), agent_id, block_id))


lambda_handler = make_handler(app)
