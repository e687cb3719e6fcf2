"""The streaming function: a small ASGI app served by uvicorn behind the Lambda Web Adapter
(response streaming on a function URL), and by mangum for buffered invocations.

Routes: POST /v1/groups/{group_id}/messages/stream (contract §4.8) and the resumable
GET|POST /v1/runs/{run_id}/stream (contract §12a). Failures before the run starts are JSON
errors; once the stream has started, failures arrive as an error frame then [DONE].
"""

import asyncio
import json
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from lettagroups.api.app import INTERNAL_ERROR
from lettagroups.api.stream_auth import actor_for_stream
from lettagroups.api.validation import validation_detail
from lettagroups.errors import DomainError
from lettagroups.logic import group_messages, runs
from lettagroups.models.messages import LettaStreamingRequest
from lettagroups.observability import logger
from lettagroups.streaming.tail import tail

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
SSE_TYPE = "text/event-stream; charset=utf-8"


def _error(exc: Exception) -> Response:
    if isinstance(exc, DomainError):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    if isinstance(exc, ValidationError):
        return JSONResponse({"detail": validation_detail(exc.errors(), prefix=("body",))}, status_code=422)
    logger.exception("stream request failed before streaming")
    return JSONResponse(INTERNAL_ERROR, status_code=500)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    return json.loads(raw)


async def send_group_message_stream(request: Request) -> Response:
    try:
        actor = await asyncio.to_thread(actor_for_stream, dict(request.headers))
        body = await _json_body(request)
        if body is None:
            return JSONResponse(
                {"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]}, status_code=422
            )
        payload = LettaStreamingRequest.model_validate(body)
        run = await asyncio.to_thread(
            group_messages.start_run, actor, request.path_params["group_id"], payload, stream_tokens=payload.stream_tokens
        )
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            return _error(exc)
        return JSONResponse(
            {"detail": [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error", "input": None}]}, status_code=422
        )
    except Exception as exc:  # noqa: BLE001 - mapped to the contract's JSON errors
        return _error(exc)
    return StreamingResponse(
        tail(actor.organization_id, run["id"]), media_type=SSE_TYPE, headers={**SSE_HEADERS, "X-Run-Id": run["id"]}
    )


async def stream_run(request: Request) -> Response:
    try:
        actor = await asyncio.to_thread(actor_for_stream, dict(request.headers))
        starting_after = 0
        if request.method == "POST":
            body = await _json_body(request) or {}
            starting_after = int(body.get("starting_after", 0)) if isinstance(body, dict) else 0
        else:
            starting_after = int(request.query_params.get("starting_after", "0") or 0)
        last_event_id = request.headers.get("last-event-id")
        if last_event_id:
            starting_after = max(starting_after, int(last_event_id))
        if starting_after < 0:
            raise ValueError("starting_after must not be negative")
        run = await asyncio.to_thread(runs.load_run, actor, request.path_params["run_id"])
    except ValueError:
        return JSONResponse(
            {
                "detail": [
                    {
                        "type": "int_parsing",
                        "loc": ["query", "starting_after"],
                        "msg": "Input should be a non-negative integer",
                        "input": None,
                    }
                ]
            },
            status_code=422,
        )
    except Exception as exc:  # noqa: BLE001
        return _error(exc)
    return StreamingResponse(tail(actor.organization_id, run["id"], starting_after), media_type=SSE_TYPE, headers=SSE_HEADERS)


app = Starlette(
    routes=[
        Route("/v1/groups/{group_id}/messages/stream", send_group_message_stream, methods=["POST"]),
        Route("/v1/groups/{group_id}/messages/stream/", send_group_message_stream, methods=["POST"]),
        Route("/v1/runs/{run_id}/stream", stream_run, methods=["GET", "POST"]),
    ]
)
