"""The acting user and organization of a request (contract §2.1)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_USER_ID = "user-00000000-0000-4000-8000-000000000000"
DEFAULT_ORG_ID = "org-00000000-0000-4000-8000-000000000000"
DEFAULT_USER_NAME = "default_user"


@dataclass(frozen=True)
class Actor:
    user_id: str
    organization_id: str


DEFAULT_ACTOR = Actor(user_id=DEFAULT_USER_ID, organization_id=DEFAULT_ORG_ID)
