"""GET /v1/blocks/{block_id}/agents: the agents holding a block (later Letta's cursors and `order`)."""

from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import core_memory
from lettagroups.models.agents import AgentState
from lettagroups.models.groups import ListOrder

app = create_app()


@app.get("/v1/blocks/<block_id>/agents", operation_id="list_agents_for_block", responses=ok(list[AgentState]))
def list_agents_for_block(
    block_id: str,
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[Optional[int], Query(ge=0, le=1000)] = None,
    order: Annotated[ListOrder, Query()] = "asc",
    order_by: Annotated[Literal["created_at"], Query()] = "created_at",
) -> Response[Any]:
    return json_response(
        core_memory.list_agents_for_block(current_actor(app), block_id, after=after, before=before, limit=limit, order=order)
    )


lambda_handler = make_handler(app)
