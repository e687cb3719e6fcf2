"""GET /v1/agents/{agent_id}/core-memory/blocks: the agent's memory blocks (later Letta's cursors and `order`)."""

from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import core_memory
from lettagroups.models.blocks import Block
from lettagroups.models.groups import ListOrder

app = create_app()


@app.get("/v1/agents/<agent_id>/core-memory/blocks", operation_id="list_core_memory_blocks", responses=ok(list[Block]))
def list_core_memory_blocks(
    agent_id: str,
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[Optional[int], Query(ge=0, le=1000)] = None,
    order: Annotated[Optional[ListOrder], Query()] = None,
    order_by: Annotated[Literal["created_at"], Query()] = "created_at",
) -> Response[Any]:
    return json_response(
        core_memory.list_blocks(current_actor(app), agent_id, after=after, before=before, limit=limit, order=order)
    )


lambda_handler = make_handler(app)
