"""Run schemas (Letta's `Run`, used for async group sends and background sleeptime passes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict

RunStatus = Literal["created", "running", "completed", "failed", "cancelled"]


class Run(BaseModel):
    model_config = ConfigDict(defer_build=True)
    created_by_id: Optional[str] = None
    last_updated_by_id: Optional[str] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    status: RunStatus = "created"
    completed_at: Optional[datetime] = None
    metadata: Optional[dict[str, Any]] = None
    job_type: str = "run"
    callback_url: Optional[str] = None
    callback_sent_at: Optional[datetime] = None
    callback_status_code: Optional[int] = None
    id: str
    user_id: Optional[str] = None


class RunUsage(BaseModel):
    model_config = ConfigDict(defer_build=True)
    completion_tokens: int = 0
    prompt_tokens: int = 0
    total_tokens: int = 0
