"""The ASGI application `make run` serves: the HTTP API routes of template.yaml, plus the
streaming function's own ASGI app for the paths it serves (its function URL, deployed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .gateway import Gateway
from .handlers import LocalContext, load_handler, load_module
from .template import ROOT, functions, handler_of, load_template


def function_url_apps() -> list[tuple[str, Any, Any]]:
    """(method, path regex, ASGI app) for every route of every function-URL function."""
    extra = []
    for name, resource in functions().items():
        props = resource.get("Properties", {})
        if not props.get("FunctionUrlConfig"):
            continue
        app = load_module(f"functions_{name}_main", ROOT / props["CodeUri"] / "main.py").app
        for route in app.routes:
            for method in sorted(route.methods or []):
                if method != "HEAD":
                    extra.append((method, route.path_regex, app))
    return extra


# --- the HTTP API's Lambda authorizer, as API Gateway runs it ----------------------------------------

UNAUTHORIZED = {"statusCode": 401, "body": json.dumps({"detail": "Unauthorized"})}


def _authorizer_config() -> tuple[str, list[str], set[str]]:
    """(authorizer function logical id, identity headers, route keys with `Auth: {Authorizer: NONE}`) from template.yaml."""
    template = load_template()
    auth = template["Resources"]["HttpApi"]["Properties"]["Auth"]
    config = auth["Authorizers"][auth["DefaultAuthorizer"]]
    function = config["FunctionArn"]["GetAtt"].split(".")[0]
    identity = list(config.get("Identity", {}).get("Headers") or ["Authorization"])
    open_routes = set()
    for resource in functions(template).values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            props = event.get("Properties", {})
            if event.get("Type") == "HttpApi" and props.get("Auth", {}).get("Authorizer") == "NONE":
                open_routes.add(f"{props['Method'].upper()} {props['Path']}")
    return function, identity, open_routes


def _authorizer_event(event: dict[str, Any], identity: list[str]) -> dict[str, Any]:
    """A REQUEST authorizer payload 2.0 event for the route's event (what API Gateway sends the authorizer)."""
    context = event["requestContext"]
    authorizer_event: dict[str, Any] = {
        key: event[key]
        for key in ("routeKey", "rawPath", "rawQueryString", "cookies", "headers", "queryStringParameters", "pathParameters")
        if key in event
    }
    route_arn = f"arn:aws:execute-api:us-east-1:{context['accountId']}:{context['apiId']}/{context['stage']}/{context['http']['method']}{context['http']['path']}"
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": route_arn,
        "identitySource": [event["headers"][h.lower()] for h in identity],
        **authorizer_event,
        "requestContext": {k: v for k, v in context.items() if k != "authorizer"},
    }


def local_authorizer() -> Callable[[dict[str, Any]], dict[str, Any] | None] | None:
    """The Gateway hook for `password`/`apikey` modes: runs the real authorizer handler; None in open mode.

    As API Gateway: a route marked `Authorizer: NONE` skips it; a missing identity header is refused without
    invoking it; an allow puts the authorizer's context at requestContext.authorizer.lambda. Every refusal is
    401 {"detail": "Unauthorized"}, the body Letta 0.7.7's password mode answers.
    """
    from lettagroups.auth.credentials import OPEN, auth_mode

    if auth_mode() == OPEN:
        return None
    function, identity, open_routes = _authorizer_config()
    handler = load_handler(function, ROOT / functions()[function]["Properties"]["CodeUri"], handler_of(function))

    def authorize(event: dict[str, Any]) -> dict[str, Any] | None:
        if event["routeKey"] in open_routes:
            return None
        if not all(event["headers"].get(h.lower()) for h in identity):
            return UNAUTHORIZED
        result = handler(_authorizer_event(event, identity), LocalContext(function, event["requestContext"]["requestId"]))
        if result.get("isAuthorized") is not True:
            return UNAUTHORIZED
        event["requestContext"]["authorizer"] = {"lambda": result.get("context") or {}}
        return None

    return authorize


def build_app() -> Gateway:
    return Gateway(extra=function_url_apps(), authorizer=local_authorizer())
