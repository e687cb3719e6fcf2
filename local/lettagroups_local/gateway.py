"""An ASGI stand-in for API Gateway HTTP API: each request becomes a payload-2.0 event for the
function that template.yaml routes it to, and that handler runs in-process."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from .handlers import LocalContext, load_handler
from .template import Route, http_routes

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 6 * 1024 * 1024  # Lambda's synchronous payload limit


def build_event(
    route: Route, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes, client: Any
) -> dict[str, Any]:
    header_map: dict[str, str] = {}
    cookies: list[str] = []
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        header_map[name] = f"{header_map[name]},{value}" if name in header_map else value
    params: dict[str, str] = {}
    for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        params[k] = f"{params[k]},{v}" if k in params else v
    path_params = _path_parameters(route.path, path)
    now = time.time()
    try:
        text_body: str | None = body.decode("utf-8") if body else None
        is_b64 = False
    except UnicodeDecodeError:
        text_body, is_b64 = base64.b64encode(body).decode(), True
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": path,
        "rawQueryString": query.decode("latin-1"),
        "headers": header_map,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": header_map.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": client[0] if client else "127.0.0.1",
                "userAgent": header_map.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_b64,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if path_params:
        event["pathParameters"] = path_params
    if text_body is not None:
        event["body"] = text_body
    return event


def _path_parameters(template_path: str, path: str) -> dict[str, str]:
    names = template_path.strip("/").split("/")
    values = path.strip("/").split("/")
    return {n[1:-1]: v for n, v in zip(names, values) if n.startswith("{")}


async def _send_json(send: Send, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return b"\x00TOO_LARGE"
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


class Gateway:
    """Routes to in-process handlers; `extra` maps (method, path regex) to other ASGI apps (the stream app)."""

    def __init__(
        self,
        routes: list[Route] | None = None,
        extra: list[tuple[str, Any, ASGIApp]] | None = None,
        authorizer: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    ) -> None:
        self.routes = routes if routes is not None else http_routes()
        self.extra = extra or []
        self.authorizer = authorizer
        # Runs during uvicorn's graceful shutdown; code after `Server.run()` may never run, because
        # uvicorn re-raises the signal that stopped it.
        self.on_shutdown: Callable[[], None] | None = None

    def match(self, method: str, path: str) -> Route | None:
        for route in self.routes:
            if route.method == method and route.pattern.match(path):
                return route
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.on_shutdown is not None:
                        await asyncio.to_thread(self.on_shutdown)
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        method = scope["method"].upper()
        raw_path = scope["path"]
        path = raw_path.rstrip("/") if len(raw_path) > 1 else raw_path
        for extra_method, pattern, app in self.extra:
            if extra_method == method and pattern.match(path):
                await app(scope, receive, send)
                return
        route = self.match(method, path)
        if route is None:
            await _send_json(send, 404, {"detail": "Not Found"})
            return
        body = await _read_body(receive)
        if body is None:
            return
        if body == b"\x00TOO_LARGE":
            await _send_json(send, 413, {"detail": "Request body too large"})
            return
        event = build_event(
            route, method, raw_path, scope.get("query_string", b""), scope.get("headers", []), body, scope.get("client")
        )
        if self.authorizer is not None:
            denied = await asyncio.to_thread(self.authorizer, event)  # it reads DynamoDB: keep the loop free
            if denied is not None:
                await _send_json(send, denied["statusCode"], json.loads(denied["body"]))
                return
        handler = load_handler(route.function, route.code_dir, route.handler)
        context = LocalContext(route.function, event["requestContext"]["requestId"])
        try:
            result = await asyncio.to_thread(handler, event, context)
        except Exception:  # noqa: BLE001 - what API Gateway answers when the integration fails
            await _send_json(send, 500, {"detail": "An internal server error occurred"})
            return
        await _send_result(send, result)


async def _send_result(send: Send, result: dict[str, Any]) -> None:
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    headers = [
        (k.lower().encode(), str(v).encode()) for k, v in (result.get("headers") or {}).items() if k.lower() != "content-length"
    ]
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((k.lower().encode(), str(v).encode()) for v in values)
    for cookie in result.get("cookies") or []:
        headers.append((b"set-cookie", cookie.encode()))
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": int(result.get("statusCode", 200)), "headers": headers})
    await send({"type": "http.response.body", "body": payload})
