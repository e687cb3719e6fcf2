"""GET /v1/health/: liveness, no storage access."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, json_response, make_handler, ok
from lettagroups.models.health import Health

app = create_app()


@app.get("/v1/health", operation_id="health_check", responses=ok(Health))
def health_check() -> Response[Any]:
    return json_response(Health())


lambda_handler = make_handler(app)
