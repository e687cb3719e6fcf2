"""Process configuration read from the environment (set by template.yaml or the local runner)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    table_name: str
    endpoint_url: str | None
    region: str
    auth_mode: str  # "open" (local default), "password", "apikey" (deployment, behind an authorizer)
    server_password: str | None
    max_body_bytes: int


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", "letta-groups"),
        endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        auth_mode=os.environ.get("AUTH_MODE", "open"),
        server_password=os.environ.get("SERVER_PASSWORD") or None,
        max_body_bytes=int(os.environ.get("MAX_BODY_BYTES", str(1024 * 1024))),
    )
