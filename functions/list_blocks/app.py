"""GET /v1/blocks: the organization's blocks."""

from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import blocks
from lettagroups.models.blocks import Block
from lettagroups.models.groups import ListOrder

app = create_app()


@app.get("/v1/blocks", operation_id="list_blocks", responses=ok(list[Block]))
def list_blocks(
    label: Annotated[Optional[str], Query(max_length=200)] = None,
    name: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[Optional[int], Query(ge=0, le=10_000)] = None,
    templates_only: Annotated[bool, Query()] = False,
    # later Letta's cursors, which letta-client 1.x pages with
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    order: Annotated[ListOrder, Query()] = "asc",
    order_by: Annotated[Literal["created_at"], Query()] = "created_at",
) -> Response[Any]:
    return json_response(
        blocks.list_blocks(
            current_actor(app),
            label=label,
            name=name,
            limit=limit,
            templates_only=templates_only,
            after=after,
            before=before,
            order=order,
        )
    )


lambda_handler = make_handler(app)
