"""Memory block schemas (Letta `Block`, `CreateBlock`, `BlockUpdate`)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

VALUE_MAX = 100_000
LABEL_MAX = 200


class _FitsLimit(BaseModel):
    """As Letta's blocks: a value longer than the character limit given with it is refused (422)."""

    model_config = ConfigDict(defer_build=True)

    @model_validator(mode="after")
    def _value_fits_limit(self) -> _FitsLimit:
        value, limit = getattr(self, "value", None), getattr(self, "limit", None)
        if value is not None and limit is not None and len(value) > limit:
            raise ValueError(f"Edit failed: Exceeds {limit} character limit (requested {len(value)})")
        return self


class CreateBlock(_FitsLimit):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    value: str = Field(max_length=VALUE_MAX)
    limit: int = Field(default=5000, ge=1, le=VALUE_MAX)
    name: Optional[str] = Field(default=None, max_length=LABEL_MAX)
    is_template: bool = False
    label: str = Field(min_length=1, max_length=LABEL_MAX)
    description: Optional[str] = Field(default=None, max_length=10_000)
    metadata: Optional[dict[str, Any]] = Field(default_factory=dict)


class BlockUpdate(_FitsLimit):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    value: Optional[str] = Field(default=None, max_length=VALUE_MAX)
    limit: Optional[int] = Field(default=None, ge=1, le=VALUE_MAX)
    name: Optional[str] = Field(default=None, max_length=LABEL_MAX)
    is_template: Optional[bool] = None
    label: Optional[str] = Field(default=None, min_length=1, max_length=LABEL_MAX)
    description: Optional[str] = Field(default=None, max_length=10_000)
    metadata: Optional[dict[str, Any]] = None


class Block(BaseModel):
    model_config = ConfigDict(defer_build=True)
    value: str
    limit: int = 5000
    name: Optional[str] = None
    is_template: bool = False
    label: Optional[str] = None
    description: Optional[str] = None
    metadata: Optional[dict[str, Any]] = Field(default_factory=dict)
    id: str
    organization_id: Optional[str] = None
    created_by_id: Optional[str] = None
    last_updated_by_id: Optional[str] = None
