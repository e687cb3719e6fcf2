"""Health check response."""

from __future__ import annotations

from pydantic import BaseModel

VERSION = "0.7.7"


class Health(BaseModel):
    version: str = VERSION
    status: str = "ok"
