"""Health check response."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

VERSION = "0.7.7"


class Health(BaseModel):
    model_config = ConfigDict(defer_build=True)
    version: str = VERSION
    status: str = "ok"
