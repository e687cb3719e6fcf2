"""Who a request's credentials name, per auth mode (contract §2.1).

| mode       | credentials                                                   | caller                        |
|------------|---------------------------------------------------------------|-------------------------------|
| `open`     | none (any Authorization is ignored)                           | decided downstream (default)  |
| `password` | `Authorization: Bearer <pw>` (SERVER_PASSWORD)                | the default user              |
| `apikey`   | `Authorization: Bearer <key>`                                 | the key's user                |

Shared by the HTTP API's Lambda authorizer and the streaming function, which sits on a function URL
with no authorizer in front and so checks the same credentials itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Optional

from ..models.identity import DEFAULT_ACTOR, Actor
from ..settings import Settings, get_settings
from .keys import verify_key, verify_password

OPEN = "open"
PASSWORD = "password"
APIKEY = "apikey"

log = logging.getLogger(__name__)


def auth_mode(settings: Optional[Settings] = None) -> str:
    """The mode in force. A configured server password is never silently ignored: `open` with
    SERVER_PASSWORD set means `password` (so `SERVER_PASSWORD=pw python -m lettagroups_local` just works)."""
    settings = settings or get_settings()
    mode = (settings.auth_mode or OPEN).strip().lower()
    if mode == OPEN and settings.server_password:
        return PASSWORD
    return mode


def header(headers: Mapping[str, str], name: str) -> Optional[str]:
    lowered = name.lower()
    for k, v in headers.items():
        if k.lower() == lowered:
            return v
    return None


def bearer_token(headers: Mapping[str, str]) -> Optional[str]:
    """The token of `Authorization: Bearer <token>` (scheme case-insensitive), else None."""
    value = (header(headers, "authorization") or "").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(headers: Mapping[str, str], settings: Optional[Settings] = None) -> Optional[Actor]:
    """The caller named by valid credentials, or None when they are missing or invalid.

    Open mode has no credentials to check: it answers the default user (callers that let open mode
    through should not ask). An unknown mode answers None for every request: misconfiguration fails closed.
    """
    settings = settings or get_settings()
    mode = auth_mode(settings)
    if mode == OPEN:
        return DEFAULT_ACTOR
    if mode == PASSWORD:
        # Only the bearer: 0.7.7's X-BARE-PASSWORD header is not accepted, because the HTTP API's authorizer
        # identity source is Authorization alone and the stream function must agree with it.
        return DEFAULT_ACTOR if verify_password(bearer_token(headers), settings.server_password) else None
    if mode == APIKEY:
        return verify_key(bearer_token(headers))
    log.error("unknown AUTH_MODE %r: refusing every request", mode)
    return None
