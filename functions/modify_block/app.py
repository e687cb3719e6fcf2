"""PATCH /v1/blocks/{block_id}: edits are seen by every agent that has the block."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import blocks
from lettagroups.models.blocks import Block, BlockUpdate

app = create_app()


@app.patch("/v1/blocks/<block_id>", operation_id="modify_block", responses=ok(Block))
def modify_block(block_id: str, request: Annotated[BlockUpdate, Body()]) -> Response[Any]:
    return json_response(blocks.modify_block(current_actor(app), block_id, request))


lambda_handler = make_handler(app)
