"""The resolver every handler uses: validation, the one error mapping, and JSON responses."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel

from ..errors import DomainError
from ..observability import logger, metrics, tracer
from .bodies import INTERNAL_ERROR, check_body
from .identity import actor_from_event
from .validation import validation_detail

__all__ = ["INTERNAL_ERROR", "create_app", "current_actor", "json_response", "make_handler", "ok", "precheck_body"]

JSON = "application/json"


def to_jsonable(value: Any) -> Any:
    from ..models.messages import LettaMessageBase, dump_message

    if isinstance(value, LettaMessageBase):
        return dump_message(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


def json_response(value: Any, status_code: int = 200) -> Response:
    body = json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=False)
    return Response(status_code=status_code, content_type=JSON, body=body)


def error_response(status_code: int, detail: Any) -> Response:
    return Response(status_code=status_code, content_type=JSON, body=json.dumps({"detail": detail}, default=str))


def create_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return error_response(422, validation_detail(exc.errors()))

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        return error_response(exc.status_code, exc.detail)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return Response(status_code=500, content_type=JSON, body=json.dumps(INTERNAL_ERROR))

    @app.not_found
    def _not_found(exc: Exception) -> Response:
        return error_response(404, "Not Found")

    return app


def precheck_body(event: dict[str, Any]) -> Response | None:
    """Reject bodies that are too big or too deep before anything parses them (api/bodies.py)."""
    refused = check_body(event)
    return None if refused is None else error_response(*refused)


def _normalise_path(event: dict[str, Any]) -> None:
    """`/v1/groups/` and `/v1/groups` are one route, as API Gateway treats them."""
    for holder, field in ((event, "rawPath"), (event.get("requestContext", {}).get("http", {}), "path")):
        path = holder.get(field)
        if isinstance(path, str) and len(path) > 1 and path.endswith("/"):
            holder[field] = path.rstrip("/") or "/"


def make_handler(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        _normalise_path(event)
        try:
            early = precheck_body(event)
        except DomainError as exc:
            early = error_response(exc.status_code, exc.detail)
        if early is not None:
            return {
                "statusCode": early.status_code,
                "headers": {"Content-Type": JSON},
                "body": early.body,
                "isBase64Encoded": False,
            }
        return app.resolve(event, context)

    return handler


def current_actor(app: APIGatewayHttpResolver) -> Any:
    return actor_from_event(app.current_event.raw_event)


# Component schemas of the response models named by `ok()`, for the merged OpenAPI document.
RESPONSE_SCHEMAS: dict[str, Any] = {}
# The models `ok()` was given, by the placeholder that stands for their schema until the document is generated.
RESPONSE_MODELS: dict[str, Any] = {}
RESPONSE_PLACEHOLDER = "#/components/schemas/__response__"


def ok(model: Any) -> dict[int, dict[str, Any]]:
    """OpenAPI description of a 200 JSON answer; handlers return `Response`, serialised by `json_response`.

    Only the OpenAPI document needs the answer's JSON schema, and it is generated offline
    (`python -m lettagroups_local.openapi`), so a handler's cold start computes none: the schema is a placeholder
    `$ref` that `response_schema()` resolves when the document is built.
    """
    key = getattr(model, "__name__", None) if isinstance(model, type) else None
    key = key or re.sub(r"\W+", "_", repr(model)).strip("_")
    RESPONSE_MODELS[key] = model
    schema = {"$ref": f"{RESPONSE_PLACEHOLDER}{key}"}
    return {200: {"description": "Successful Response", "content": {"application/json": {"schema": schema}}}}


def response_schema(ref: str) -> Any:
    """The schema a placeholder of `ok()` stands for: a `$ref` into components for a model (collected in
    RESPONSE_SCHEMAS with what it refers to), the inline schema otherwise. Handlers return a prepared `Response`
    that the resolver must not re-validate, hence a description only."""
    from pydantic import TypeAdapter

    model = RESPONSE_MODELS[ref.removeprefix(RESPONSE_PLACEHOLDER)]
    schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    RESPONSE_SCHEMAS.update(schema.pop("$defs", {}))
    if isinstance(model, type) and issubclass(model, BaseModel):
        RESPONSE_SCHEMAS[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}
    return schema
