"""GET /v1/groups/{group_id}/messages: the group's one transcript, anchored at the cursor (contract §4.10;
`order` is later Letta's, and its default depends on the SDK generation: lettagroups.api.clients)."""

from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.api.clients import default_message_order
from lettagroups.logic import group_history
from lettagroups.models.groups import ListOrder
from lettagroups.models.messages import LettaMessage

app = create_app()


@app.get("/v1/groups/<group_id>/messages", operation_id="list_group_messages", responses=ok(list[LettaMessage]))
def list_group_messages(
    group_id: str,
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=0, le=1000)] = 10,
    order: Annotated[Optional[ListOrder], Query()] = None,
    order_by: Annotated[Literal["created_at"], Query()] = "created_at",
    use_assistant_message: Annotated[bool, Query()] = True,
    assistant_message_tool_name: Annotated[str, Query(max_length=200)] = "send_message",
    assistant_message_tool_kwarg: Annotated[str, Query(max_length=200)] = "message",
) -> Response[Any]:
    return json_response(
        group_history.list_messages(
            current_actor(app),
            group_id,
            after=after,
            before=before,
            limit=limit,
            order=order or default_message_order(app.current_event.headers),
            use_assistant_message=use_assistant_message,
            assistant_message_tool_name=assistant_message_tool_name,
            assistant_message_tool_kwarg=assistant_message_tool_kwarg,
        )
    )


lambda_handler = make_handler(app)
