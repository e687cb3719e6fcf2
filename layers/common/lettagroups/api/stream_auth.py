"""Who is calling the streaming function.

A function URL has no API Gateway authorizer in front of it (aws-offline-toolchain.md §8.x), so this
function checks, in order:
1. the origin secret: with ORIGIN_SECRET set (deployed behind CloudFront), X-Origin-Verify must carry it,
   so only CloudFront reaches the function URL (403 otherwise);
2. in `password` and `apikey` modes, the same credentials the HTTP API's authorizer accepts (401 otherwise);
3. then the acting user exactly as a REST handler would see it, the authenticated caller standing in for
   the authorizer context (so a `user_id` header outside the caller's organization is 403 here too).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

from ..auth.credentials import OPEN, auth_mode, authenticate, header
from ..errors import ForbiddenError, UnauthorizedError
from ..models.identity import Actor
from .identity import actor_from_event


def check_origin(headers: Mapping[str, str]) -> None:
    """Raise ForbiddenError unless X-Origin-Verify matches a non-empty ORIGIN_SECRET (read per call: tests set it)."""
    secret = os.environ.get("ORIGIN_SECRET", "")
    if not secret:
        return
    given = header(headers, "x-origin-verify") or ""
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise ForbiddenError("Forbidden")


def actor_for_stream(headers: Mapping[str, str]) -> Actor:
    check_origin(headers)
    if auth_mode() == OPEN:
        return actor_from_event({"headers": dict(headers), "requestContext": {}})
    caller = authenticate(headers)
    if caller is None:
        raise UnauthorizedError("Unauthorized")
    context = {"organization_id": caller.organization_id, "user_id": caller.user_id}
    return actor_from_event({"headers": dict(headers), "requestContext": {"authorizer": {"lambda": context}}})
