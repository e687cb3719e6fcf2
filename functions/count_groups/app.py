"""GET /v1/groups/count: the number of groups, O(1) from a counter item (contract §4.2)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import groups

app = create_app()


@app.get("/v1/groups/count", operation_id="count_groups", responses=ok(int))
def count_groups() -> Response[Any]:
    return json_response(groups.count_groups(current_actor(app)))


lambda_handler = make_handler(app)
