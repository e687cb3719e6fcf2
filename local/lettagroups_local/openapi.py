"""Builds the service's OpenAPI document from the handlers themselves (their routes and models).

Each function has its own resolver that knows only its own route, so the document is the merge
of every function's schema, plus the streaming routes (served by the function-URL app).
`python -m lettagroups_local.openapi` rewrites functions/openapi_document/openapi.json; a test
fails when the committed file is stale.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .handlers import load_handler
from .template import ROOT, http_routes

OUTPUT = ROOT / "functions" / "openapi_document" / "openapi.json"
TITLE = "Letta-compatible groups API"
VERSION = "0.7.7"
SSE_RESPONSE = {
    "200": {"description": "Successful response", "content": {"text/event-stream": {"description": "Server-Sent Events stream"}}},
}


def _stream_paths() -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/LettaStreamingRequest"}}}, "required": True}
    return {
        "/v1/groups/{group_id}/messages/stream": {
            "post": {
                "operationId": "send_group_message_streaming",
                "summary": "Send a message to a group and stream the run (SSE)",
                "parameters": [{"name": "group_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": body,
                "responses": {**SSE_RESPONSE, "422": {"description": "Validation Error"}},
            }
        },
        "/v1/agents/{agent_id}/messages/stream": {
            "post": {
                "operationId": "create_agent_message_stream",
                "summary": "Send a message to an agent and stream the run (SSE); an agent managing a group runs its pattern",
                "parameters": [{"name": "agent_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": body,
                "responses": {**SSE_RESPONSE, "422": {"description": "Validation Error"}},
            }
        },
        "/v1/voice-beta/{agent_id}/chat/completions": {
            "post": {
                "operationId": "create_voice_chat_completions",
                "summary": "OpenAI chat completions to a voice agent: chat.completion.chunk SSE, or one chat.completion",
                "parameters": [{"name": "agent_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}}},
                    "required": True,
                },
                "responses": {
                    "200": {
                        "description": "Successful response",
                        "content": {
                            "text/event-stream": {"description": "chat.completion.chunk frames, then [DONE]"},
                            "application/json": {"description": "one chat.completion (stream: false)"},
                        },
                    },
                    "422": {"description": "Validation Error"},
                },
            }
        },
        "/v1/runs/{run_id}/stream": {
            "get": {
                "operationId": "stream_run",
                "summary": "Replay a run's SSE frames after `starting_after` (or Last-Event-ID)",
                "parameters": [
                    {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "starting_after",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                ],
                "responses": SSE_RESPONSE,
            }
        },
    }


def _resolve_responses(node: Any) -> Any:
    """Replace the placeholders `ok()` leaves in responses with the answers' schemas (lettagroups.api.app)."""
    from lettagroups.api.app import RESPONSE_PLACEHOLDER, response_schema

    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(RESPONSE_PLACEHOLDER):
            return response_schema(ref)
        return {k: _resolve_responses(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_responses(v) for v in node]
    return node


def build() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for route in http_routes():
        if route.function == "OpenApiDocumentFunction":
            continue
        load_handler(route.function, route.code_dir, route.handler)
        app = getattr(sys.modules[f"functions_{route.function}"], "app", None)  # the module's resolver
        if app is None:
            continue
        document = _resolve_responses(json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION)))
        for path, operations in document.get("paths", {}).items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(document.get("components", {}).get("schemas", {}))
    from lettagroups.api.app import RESPONSE_SCHEMAS

    schemas.update(RESPONSE_SCHEMAS)
    paths.update(_stream_paths())
    from lettagroups.models.messages import LettaStreamingRequest

    stream_schema = LettaStreamingRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(stream_schema.pop("$defs", {}))
    schemas["LettaStreamingRequest"] = stream_schema
    from lettagroups.models.voice import ChatCompletionRequest

    schemas["ChatCompletionRequest"] = ChatCompletionRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    return json.dumps(build(), indent=1, sort_keys=False) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
