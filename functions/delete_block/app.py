"""DELETE /v1/blocks/{block_id}."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import blocks
from lettagroups.models.blocks import Block

app = create_app()


@app.delete("/v1/blocks/<block_id>", operation_id="delete_block", responses=ok(Block))
def delete_block(block_id: str) -> Response[Any]:
    return json_response(blocks.delete_block(current_actor(app), block_id))


lambda_handler = make_handler(app)
