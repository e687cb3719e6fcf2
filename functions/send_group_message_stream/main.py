"""The streaming function: a small ASGI app served by uvicorn behind the Lambda Web Adapter
(response streaming on a function URL), and by mangum for buffered invocations.

Routes: POST /v1/groups/{group_id}/messages/stream (contract §4.8), POST /v1/agents/{agent_id}/messages/stream
(contract §10), the resumable GET|POST /v1/runs/{run_id}/stream (contract §12a), and the voice agents' OpenAI-style
POST /v1/voice-beta/{agent_id}/chat/completions. Failures before the run starts are JSON errors; once the stream has
started, failures arrive as an error frame then [DONE].

The run itself executes elsewhere (the group-run state machine); this function only starts it
and follows its event log (streaming/tail.py), so a client that disconnects stops nothing and can
come back with Last-Event-ID or ?starting_after= (the run id is in the X-Run-Id header).
"""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, Optional

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from lettagroups.api.bodies import INTERNAL_ERROR, check_body
from lettagroups.api.clients import IDEMPOTENCY_KEY_MAX, retried_header
from lettagroups.api.stream_auth import actor_for_stream
from lettagroups.api.validation import validation_detail
from lettagroups.errors import DomainError
from lettagroups.logic import agent_messages, group_messages, runs, voice
from lettagroups.logic.sending import Opened
from lettagroups.models.messages import LettaStreamingRequest
from lettagroups.models.voice import ChatCompletionRequest
from lettagroups.observability import logger
from lettagroups.streaming.chat_chunks import ChunkWriter
from lettagroups.streaming.frames import sse
from lettagroups.streaming.tail import DEFAULT_DEADLINE_SECONDS, tail

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
SSE_TYPE = "text/event-stream; charset=utf-8"
DEADLINE_MARGIN_SECONDS = 10.0  # end the stream cleanly this long before Lambda would cut it


def _error(exc: Exception) -> Response:
    if isinstance(exc, DomainError):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    if isinstance(exc, ValidationError):
        return JSONResponse({"detail": validation_detail(exc.errors(), prefix=("body",))}, status_code=422)
    logger.exception("stream request failed before streaming")
    return JSONResponse(INTERNAL_ERROR, status_code=500)


def _invalid(loc: list[str], kind: str, msg: str, value: Any = None, ctx: Optional[dict[str, Any]] = None) -> JSONResponse:
    error = {"type": kind, "loc": loc, "msg": msg, "input": value, **({"ctx": ctx} if ctx else {})}
    return JSONResponse({"detail": [error]}, status_code=422)


def _deadline_seconds(request: Request) -> float:
    """How long the stream may stay open: until shortly before this invocation's deadline (the Lambda Web
    Adapter passes the Lambda context as JSON in x-amzn-lambda-context), else a default below 900 s."""
    raw = request.headers.get("x-amzn-lambda-context")
    if raw:
        try:
            context = json.loads(raw)
            deadline_ms = float(context.get("deadline") or context.get("deadline_ms") or 0)
        except (ValueError, TypeError, AttributeError):
            deadline_ms = 0
        if deadline_ms > 0:
            return max(1.0, deadline_ms / 1000 - time.time() - DEADLINE_MARGIN_SECONDS)
    return DEFAULT_DEADLINE_SECONDS


class _BadBody(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("bad body")
        self.response = response


async def _json_body(request: Request) -> Any:
    """The parsed JSON body (None when empty), refused as the REST API refuses it: too big (413), not JSON,
    too deep, unstorable numbers, or not an object (422)."""
    raw = await request.body()
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadBody(_invalid(["body"], "json_invalid", "Body is not UTF-8 JSON")) from None
    try:
        refused = check_body({"body": text})
    except DomainError as exc:
        raise _BadBody(_error(exc)) from None
    if refused is not None:
        status, detail = refused
        raise _BadBody(JSONResponse({"detail": detail}, status_code=status))
    return json.loads(text)


def _stream(org_id: str, run_id: str, starting_after: int, request: Request, render: Any = sse) -> StreamingResponse:
    return StreamingResponse(
        tail(org_id, run_id, starting_after, deadline_seconds=_deadline_seconds(request), render=render),
        media_type=SSE_TYPE,
        headers={**SSE_HEADERS, "X-Run-Id": run_id},
    )


async def _send_stream(request: Request, send: Callable[..., Opened], target_id: str) -> Response:
    """A streamed send through either door (a group's or an agent's): JSON errors before the stream starts."""
    try:
        # the origin secret and credentials first (api/stream_auth.py): a function URL has no authorizer
        actor = await asyncio.to_thread(actor_for_stream, dict(request.headers))
        body = await _json_body(request)
        if body is None:
            return _invalid(["body"], "missing", "Field required")
        payload = LettaStreamingRequest.model_validate(body)
        idempotency_key = request.headers.get("idempotency-key") or None
        if idempotency_key is not None and len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
            too_long = f"String should have at most {IDEMPOTENCY_KEY_MAX} characters"
            limit = {"max_length": str(IDEMPOTENCY_KEY_MAX)}  # as the REST sends answer it
            return _invalid(["header", "idempotency-key"], "string_too_long", too_long, idempotency_key, limit)
        opened = await asyncio.to_thread(
            send,
            actor,
            target_id,
            payload,
            idempotency_key=idempotency_key,
            retried=retried_header(request.headers.get("x-stainless-retry-count")),
        )
    except _BadBody as bad:
        return bad.response
    except Exception as exc:  # noqa: BLE001 - mapped to the contract's JSON errors, before any SSE
        return _error(exc)
    return _stream(actor.organization_id, opened.run_id, opened.starting_after, request)


async def send_group_message_stream(request: Request) -> Response:
    return await _send_stream(request, group_messages.send_message_stream, request.path_params["group_id"])


async def create_agent_message_stream(request: Request) -> Response:
    return await _send_stream(request, agent_messages.send_message_stream, request.path_params["agent_id"])


async def create_voice_chat_completions(request: Request) -> Response:
    """An OpenAI chat-completions request to a voice agent: chunks when it asks to stream, else one completion."""
    agent_id = request.path_params["agent_id"]
    try:
        actor = await asyncio.to_thread(actor_for_stream, dict(request.headers))
        body = await _json_body(request)
        if body is None:
            return _invalid(["body"], "missing", "Field required")
        payload = ChatCompletionRequest.model_validate(body)
        if not payload.stream:
            return JSONResponse(await asyncio.to_thread(voice.complete, actor, agent_id, payload))
        opened = await asyncio.to_thread(voice.start_stream, actor, agent_id, payload)
    except _BadBody as bad:
        return bad.response
    except Exception as exc:  # noqa: BLE001 - mapped to the contract's JSON errors, before any SSE
        return _error(exc)
    writer = ChunkWriter(opened.run_id, voice.model_name(payload))
    return _stream(actor.organization_id, opened.run_id, opened.starting_after, request, render=writer.render)


def _non_negative(value: Any, loc: list[str]) -> int:
    if isinstance(value, bool):
        raise _BadCursor(loc, value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _BadCursor(loc, value) from None
    if number < 0 or (isinstance(value, float) and value != number):
        raise _BadCursor(loc, value)
    return number


class _BadCursor(Exception):
    def __init__(self, loc: list[str], value: Any) -> None:
        super().__init__(f"{loc}: {value!r}")
        self.loc = loc
        self.value = value


async def stream_run(request: Request) -> Response:
    """The run's frames after `starting_after` (query on GET, JSON body on POST) or the Last-Event-ID header,
    whichever is later; the whole run from the start when neither is given."""
    try:
        actor = await asyncio.to_thread(actor_for_stream, dict(request.headers))
    except Exception as exc:  # noqa: BLE001
        return _error(exc)
    try:
        starting_after = 0
        if request.method == "POST":
            body = await _json_body(request)
            if body and body.get("starting_after") is not None:
                starting_after = _non_negative(body["starting_after"], ["body", "starting_after"])
        elif request.query_params.get("starting_after"):
            starting_after = _non_negative(request.query_params["starting_after"], ["query", "starting_after"])
        last_event_id = (request.headers.get("last-event-id") or "").strip()
        if last_event_id:
            starting_after = max(starting_after, _non_negative(last_event_id, ["header", "Last-Event-ID"]))
    except _BadBody as bad:
        return bad.response
    except _BadCursor as exc:
        return _invalid(exc.loc, "int_parsing", "Input should be a non-negative integer", exc.value)
    try:
        run = await asyncio.to_thread(runs.load_run, actor, request.path_params["run_id"])
    except Exception as exc:  # noqa: BLE001
        return _error(exc)
    return _stream(actor.organization_id, run.id, starting_after, request)


app = Starlette(
    routes=[
        Route("/v1/groups/{group_id}/messages/stream", send_group_message_stream, methods=["POST"]),
        Route("/v1/groups/{group_id}/messages/stream/", send_group_message_stream, methods=["POST"]),
        Route("/v1/runs/{run_id}/stream", stream_run, methods=["GET", "POST"]),
        Route("/v1/agents/{agent_id}/messages/stream", create_agent_message_stream, methods=["POST"]),
        Route("/v1/voice-beta/{agent_id}/chat/completions", create_voice_chat_completions, methods=["POST"]),
    ]
)
