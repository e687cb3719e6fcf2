"""Who is calling: one function, so an authorizer plugs in without touching handlers (contract §2.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from ..auth.credentials import OPEN, auth_mode, header
from ..dal import users as users_dal
from ..errors import ForbiddenError, UnauthorizedError
from ..models.identity import DEFAULT_ACTOR, Actor


def lookup_user(user_id: str) -> Optional[Actor]:
    organization_id = users_dal.user_organization(user_id)
    return Actor(user_id=user_id, organization_id=organization_id) if organization_id else None


def actor_from_event(event: Mapping[str, Any]) -> Actor:
    """The acting user.

    With an authorizer (deployment), its context names the organization and user; a `user_id`
    header may pick another user of the same organization, anything else is 403. Credentials the
    authorizer refused, or a request that reached a handler without the authorizer in an
    authenticated mode, are 401: no path to data without credentials. In open mode, a `user_id`
    header naming an existing user selects that user; otherwise the default user acts.
    """
    headers = event.get("headers") or {}
    requested = (header(headers, "user_id") or "").strip() or None
    authorizer = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    if authorizer.get("denied") or (not authorizer.get("organization_id") and auth_mode() != OPEN):
        raise UnauthorizedError("Unauthorized")
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
