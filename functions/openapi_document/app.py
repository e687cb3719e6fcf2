"""GET /openapi.json: the service's OpenAPI document, generated from the handlers' own models
(`python -m lettagroups_local.openapi`) and shipped with this function."""

from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response

from lettagroups.api.app import create_app, current_actor, make_handler

DOCUMENT = (Path(__file__).parent / "openapi.json").read_text(encoding="utf-8")

app = create_app()


@app.get("/openapi.json", operation_id="openapi_document", include_in_schema=False)
def openapi_document() -> Response[Any]:
    current_actor(app)  # the document is behind the same credentials as the rest of the API
    return Response(status_code=200, content_type="application/json", body=DOCUMENT)


lambda_handler = make_handler(app)
