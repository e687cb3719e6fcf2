"""Who is calling the streaming function. A function URL has no API Gateway authorizer in
front of it, so this function resolves the caller from the request headers itself."""

from __future__ import annotations

from collections.abc import Mapping

from ..models.identity import Actor
from .identity import actor_from_event


def actor_for_stream(headers: Mapping[str, str]) -> Actor:
    return actor_from_event({"headers": dict(headers), "requestContext": {}})
