"""GET /v1/blocks/{block_id}."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import blocks
from lettagroups.models.blocks import Block

app = create_app()


@app.get("/v1/blocks/<block_id>", operation_id="retrieve_block", responses=ok(Block))
def retrieve_block(block_id: str) -> Response[Any]:
    return json_response(blocks.retrieve_block(current_actor(app), block_id))


lambda_handler = make_handler(app)
