"""Request bodies refused before anything parses them, shared by the REST handlers (api/app.py wraps the answer
in a Powertools Response) and the stream app (which answers with Starlette). No Powertools here: the stream
function imports this, and the resolver's validation machinery would cost its cold start for nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import PayloadTooLargeError
from ..settings import get_settings

INTERNAL_ERROR = {"detail": "An internal server error occurred"}

# DynamoDB nests documents at most 32 levels and stores numbers of at most 38 digits within
# 1E-130..9.99E+125; a body that breaks these limits can never be stored, so it is refused up front.
MAX_JSON_DEPTH = 32
MAX_INT = 10**38
MAX_NUMBER_MAGNITUDE = 1e126
MIN_NUMBER_MAGNITUDE = 1e-130

Refusal = tuple[int, Any]  # (status, the `detail` of the JSON error)


def _invalid_json(msg: str, loc: tuple[Any, ...] = (), value: Any = None, kind: str = "json_invalid") -> Refusal:
    return 422, [{"type": kind, "loc": ["body", *loc], "msg": msg, "input": value}]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _storable_number(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) < MAX_INT
    if isinstance(value, float):
        return value == 0 or MIN_NUMBER_MAGNITUDE <= abs(value) < MAX_NUMBER_MAGNITUDE
    return True


def _check_body_shape(value: Any) -> Refusal | None:
    """One walk over the parsed body: nesting depth, empty object keys, numbers that storage cannot hold."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        node, loc = stack.pop()
        if len(loc) >= MAX_JSON_DEPTH:
            return _invalid_json("JSON nested too deeply")
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "":
                    return _invalid_json("Object keys must not be empty", loc, node, "value_error")
                stack.append((v, (*loc, k)))
        elif isinstance(node, list):
            stack.extend((v, (*loc, i)) for i, v in enumerate(node))
        elif not _storable_number(node):
            return _invalid_json("Number is out of the supported range", loc, node, "value_error")
    return None


def check_body(event: dict[str, Any]) -> Refusal | None:
    """(status, detail) for a body to refuse, else None. Raises PayloadTooLargeError (413) for an oversize body.

    A base64-encoded body is decoded in place; a JSON body is re-labelled `application/json` whatever the client
    called it (the resolver only parses declared JSON)."""
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return 422, [{"type": "json_invalid", "loc": ["body"], "msg": "Body is not UTF-8 JSON", "input": None}]
        event["body"] = body
        event["isBase64Encoded"] = False
    if len(body.encode("utf-8", "surrogatepass")) > get_settings().max_body_bytes:
        raise PayloadTooLargeError(f"Request body exceeds {get_settings().max_body_bytes} bytes")
    try:
        parsed = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        return _invalid_json("JSON nested too deeply")
    except ValueError:
        return _invalid_json("JSON decode error")
    problem = _check_body_shape(parsed)
    if problem is not None:
        return problem
    if parsed is not None and not isinstance(parsed, dict):
        # Every body of this API is an object; say so with the value itself (as FastAPI does).
        return _invalid_json(
            "Input should be a valid dictionary or object to extract fields from", value=parsed, kind="model_attributes_type"
        )
    headers = event.setdefault("headers", {})
    for name in [h for h in headers if h.lower() == "content-type"]:
        del headers[name]
    headers["content-type"] = "application/json"
    return None
