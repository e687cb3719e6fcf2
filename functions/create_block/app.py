"""POST /v1/blocks: create a memory block."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import blocks
from lettagroups.models.blocks import Block, CreateBlock

app = create_app()


@app.post("/v1/blocks", operation_id="create_block", responses=ok(Block))
def create_block(request: Annotated[CreateBlock, Body()]) -> Response[Any]:
    return json_response(blocks.create_block(current_actor(app), request))


lambda_handler = make_handler(app)
