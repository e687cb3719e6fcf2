"""GET /v1/groups: list the organization's groups by creation time (contract §4.1; `order` and
`show_hidden_groups` are later Letta's)."""

from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups
from lettagroups.models.groups import Group, ListOrder, ManagerType

app = create_app()


@app.get("/v1/groups", operation_id="list_groups", responses=ok(list[Group]))
def list_groups(
    manager_type: Annotated[Optional[ManagerType], Query()] = None,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[Optional[int], Query(ge=0, le=10_000)] = None,
    project_id: Annotated[Optional[str], Query(max_length=500)] = None,
    order: Annotated[ListOrder, Query()] = "asc",
    order_by: Annotated[Literal["created_at"], Query()] = "created_at",
    show_hidden_groups: Annotated[bool, Query()] = False,
) -> Response[Any]:
    return json_response(
        groups.list_groups(
            current_actor(app),
            manager_type=manager_type.value if manager_type else None,
            project_id=project_id,
            after=after,
            before=before,
            limit=limit,
            order=order,
            show_hidden=show_hidden_groups,
        )
    )


lambda_handler = make_handler(app)
