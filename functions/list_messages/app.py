"""GET /v1/agents/{agent_id}/messages: what the agent took part in, a page anchored at the cursor (its own
conversation and the groups it runs or belongs to, as it sees them; `group_id` narrows it to one group)."""

from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.api.clients import default_message_order
from lettagroups.logic import agent_history
from lettagroups.models.groups import ListOrder
from lettagroups.models.messages import LettaMessage

app = create_app()


@app.get("/v1/agents/<agent_id>/messages", operation_id="list_messages", responses=ok(list[LettaMessage]))
def list_messages(
    agent_id: str,
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=0, le=1000)] = 10,
    group_id: Annotated[Optional[str], Query(max_length=200)] = None,
    order: Annotated[Optional[ListOrder], Query()] = None,
    order_by: Annotated[Literal["created_at"], Query()] = "created_at",
    use_assistant_message: Annotated[bool, Query()] = True,
    assistant_message_tool_name: Annotated[str, Query(max_length=200)] = "send_message",
    assistant_message_tool_kwarg: Annotated[str, Query(max_length=200)] = "message",
) -> Response[Any]:
    return json_response(
        agent_history.list_messages(
            current_actor(app),
            agent_id,
            after=after,
            before=before,
            limit=limit,
            group_id=group_id,
            order=order or default_message_order(app.current_event.headers),
            use_assistant_message=use_assistant_message,
            assistant_message_tool_name=assistant_message_tool_name,
            assistant_message_tool_kwarg=assistant_message_tool_kwarg,
        )
    )


lambda_handler = make_handler(app)
