"""The sample events of events/*.json as the handler tests use them: their placeholder ids, loading and editing
them, and invoking the routed handler with one as Lambda would, after the authorizer allowed an actor.

Handlers are found the way the local runner and the deployment find them: template.yaml routes → `load_handler`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from lettagroups.models.identity import Actor
from lettagroups_local.handlers import LocalContext, load_handler
from lettagroups_local.template import Route, http_routes

EVENTS = Path(__file__).resolve().parents[2] / "events"

# The placeholder ids the sample events use (see events/*.json).
GROUP_PH = "group-00000000-0000-4000-8000-00000000000a"
AGENT_PH = "agent-00000000-0000-4000-8000-00000000000b"
BLOCK_PH = "block-00000000-0000-4000-8000-00000000000c"
AGENT2_PH = "agent-00000000-0000-4000-8000-00000000000d"
MESSAGE_PH = "message-00000000-0000-4000-8000-00000000000e"
RUN_PH = "run-00000000-0000-4000-8000-00000000000f"
# The group-run task samples (a state machine's input) carry the default organization and user instead.
DEFAULT_ORG = "org-00000000-0000-4000-8000-000000000000"
DEFAULT_USER = "user-00000000-0000-4000-8000-000000000000"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def substitute(event: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """Replace placeholder ids everywhere (rawPath, pathParameters, query, body string)."""
    text = json.dumps(event)
    for placeholder, real in mapping.items():
        text = text.replace(placeholder, real)
    return json.loads(text)


def with_body(event: dict[str, Any], body: Any) -> dict[str, Any]:
    event = copy.deepcopy(event)
    if body is None:
        event.pop("body", None)
        event["headers"].pop("content-length", None)
    else:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        event["headers"]["content-length"] = str(len(event["body"].encode()))
    return event


def with_query(event: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    if params:
        event["queryStringParameters"] = params
    else:
        event.pop("queryStringParameters", None)
    event["rawQueryString"] = urlencode(params)
    return event


def authorizer_context(actor: Actor) -> dict[str, Any]:
    """`requestContext.authorizer` as API Gateway passes it on after the authorizer allowed `actor`."""
    return {"lambda": {"organization_id": actor.organization_id, "user_id": actor.user_id}}


def route_for(event: dict[str, Any]) -> Route:
    matches = [r for r in http_routes() if f"{r.method} {r.path}" == event["routeKey"]]
    assert len(matches) == 1, f"{event['routeKey']} is routed {len(matches)} times in template.yaml"
    return matches[0]


def invoke(event: dict[str, Any], actor: Actor | None) -> tuple[int, Any]:
    """Run the routed handler as Lambda would; `actor` goes into the authorizer context."""
    event = copy.deepcopy(event)
    if actor is not None:
        event["requestContext"]["authorizer"] = authorizer_context(actor)
    route = route_for(event)
    handler = load_handler(route.function, route.code_dir, route.handler)
    result = handler(event, LocalContext(route.function, event["requestContext"]["requestId"]))
    assert result["headers"].get("Content-Type", "").startswith("application/json")
    return result["statusCode"], json.loads(result["body"])
