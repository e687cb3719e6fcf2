"""GET /v1/groups: list the organization's groups in creation order (contract §4.1)."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups
from lettagroups.models.groups import Group, ManagerType

app = create_app()


@app.get("/v1/groups", operation_id="list_groups", responses=ok(list[Group]))
def list_groups(
    manager_type: Annotated[Optional[ManagerType], Query()] = None,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[Optional[int], Query(ge=0, le=10_000)] = None,
    project_id: Annotated[Optional[str], Query(max_length=500)] = None,
) -> Response[Any]:
    return json_response(
        groups.list_groups(
            current_actor(app),
            manager_type=manager_type.value if manager_type else None,
            project_id=project_id,
            after=after,
            before=before,
            limit=limit,
        )
    )


lambda_handler = make_handler(app)
