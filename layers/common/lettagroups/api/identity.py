"""Who is calling: one function, so an authorizer plugs in without touching handlers (contract §2.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from ..dal import items, keys
from ..errors import ForbiddenError
from ..models.identity import DEFAULT_ACTOR, Actor


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    lowered = name.lower()
    for k, v in headers.items():
        if k.lower() == lowered:
            return v
    return None


def lookup_user(user_id: str) -> Optional[Actor]:
    item = items.get(keys.user_lookup_pk(user_id), "USER")
    if item is None:
        return None
    return Actor(user_id=user_id, organization_id=item["organization_id"])


def actor_from_event(event: Mapping[str, Any]) -> Actor:
    """The acting user.

    With an authorizer (deployment), its context names the organization and user; a `user_id`
    header may pick another user of the same organization, anything else is 403. Without one
    (local open or password mode), a `user_id` header naming an existing user selects that user;
    otherwise the default user acts.
    """
    headers = event.get("headers") or {}
    requested = (_header(headers, "user_id") or "").strip() or None
    authorizer = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    if authorizer.get("organization_id"):
        caller = Actor(user_id=authorizer.get("user_id") or "", organization_id=authorizer["organization_id"])
        if requested is None or requested == caller.user_id:
            return caller
        other = lookup_user(requested)
        if other is None or other.organization_id != caller.organization_id:
            raise ForbiddenError(f"User {requested} is not a member of the caller's organization")
        return other
    if requested is None or requested == DEFAULT_ACTOR.user_id:
        return DEFAULT_ACTOR
    return lookup_user(requested) or DEFAULT_ACTOR
