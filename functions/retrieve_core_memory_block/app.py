"""GET /v1/agents/{agent_id}/core-memory/blocks/{block_label}: the agent's block with that label."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import core_memory
from lettagroups.models.blocks import Block

app = create_app()


@app.get("/v1/agents/<agent_id>/core-memory/blocks/<block_label>", operation_id="retrieve_core_memory_block", responses=ok(Block))
def retrieve_core_memory_block(agent_id: str, block_label: str) -> Response[Any]:
    return json_response(core_memory.retrieve_block(current_actor(app), agent_id, block_label))


lambda_handler = make_handler(app)
