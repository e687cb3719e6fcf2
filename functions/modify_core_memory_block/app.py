"""PATCH /v1/agents/{agent_id}/core-memory/blocks/{block_label}: modify the agent's block with that label
(a `BlockUpdate`; every agent holding the block sees the edit)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import core_memory
from lettagroups.models.blocks import Block, BlockUpdate

app = create_app()


@app.patch("/v1/agents/<agent_id>/core-memory/blocks/<block_label>", operation_id="modify_core_memory_block", responses=ok(Block))
def modify_core_memory_block(agent_id: str, block_label: str, request: Annotated[BlockUpdate, Body()]) -> Response[Any]:
    return json_response(core_memory.modify_block(current_actor(app), agent_id, block_label, request))


lambda_handler = make_handler(app)
