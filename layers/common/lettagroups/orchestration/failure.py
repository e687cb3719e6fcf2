"""The one error channel of a run: a structured failure that travels, unchanged, from the task that fails to the
run record, the HTTP status of a synchronous send and the SSE error frame.

A task that cannot go on raises `StepFailedError` (the state machine does not retry it) or `RetryableStepError`
(retried with backoff); both carry a `RunFailure`, whose JSON is the exception's message. Lambda reports the
exception as `{"errorType", "errorMessage"}` and Step Functions hands the failing state's error to its Catch as
`{"Error": <errorType>, "Cause": <Lambda's JSON>}`; `RunFailure.from_catch` reads that back, whatever produced it
(one of these errors, another exception, a Lambda fault or a timeout). Encoding and decoding live only here.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from ..errors import (
    BadGatewayError,
    BadRequestError,
    DomainError,
    FailedDependencyError,
    GatewayTimeoutError,
    NotFoundError,
    StorageUnavailableError,
    TooManyRequestsError,
)
from ..models.records import RunFailureRecord
from ..streaming.frames import error_frame

# What a client may read about a failure it cannot act on (contract §4.7: the bare 500).
INTERNAL_DETAIL = "An internal server error occurred"


class RunFailure(RunFailureRecord):
    """status: the HTTP status a synchronous send answers with; detail: what happened; kind: model | not_found |
    bad_request | storage | lock_lost | timeout | internal; code: the provider's error code, when it has one."""

    def encode(self) -> str:
        return self.model_dump_json()

    @classmethod
    def decode(cls, text: Any) -> Optional[RunFailure]:
        """A failure encoded by `encode`, or None when `text` is something else."""
        try:
            data = json.loads(text) if isinstance(text, str) else text
        except (TypeError, ValueError):
            return None
        if isinstance(data, dict) and "status" in data and "detail" in data and "kind" in data:
            return cls.model_validate(data)
        return None

    @classmethod
    def from_catch(cls, error: Optional[dict[str, Any]]) -> RunFailure:
        """The failure a Catch received: `{"Error", "Cause"}`, where Cause is Lambda's JSON error (or plain text)."""
        error = error or {}
        cause = error.get("Cause") or ""
        message: Any = cause
        try:
            parsed = json.loads(cause)
            if isinstance(parsed, dict):
                message = parsed.get("errorMessage", cause)
        except (TypeError, ValueError):
            pass
        decoded = cls.decode(message)
        if decoded is not None:
            return decoded
        name = str(error.get("Error") or "")
        if name == "States.Timeout":
            return cls(status=500, detail="a step of the run timed out", kind="timeout")
        return cls(status=500, detail=str(message or name or "run failed"), kind="internal")

    @classmethod
    def from_exception(cls, exc: BaseException) -> RunFailure:
        from ..agent.providers.errors import ModelError  # not at import: a send's function never builds the providers

        if isinstance(exc, ModelError):
            where = f"{exc.provider} model" if exc.provider else "the model"
            detail = exc.message if exc.message.startswith(where) else f"{where} failed: {exc.message}"
            return cls(status=500, detail=detail, kind="model", code=exc.code, retryable=exc.retryable)
        if isinstance(exc, StorageUnavailableError):
            return cls(status=503, detail=exc.detail, kind="storage")
        if isinstance(exc, NotFoundError):
            return cls(status=404, detail=exc.detail, kind="not_found")
        if isinstance(exc, BadRequestError):
            return cls(status=400, detail=exc.detail, kind="bad_request")
        if isinstance(exc, DomainError):
            return cls(status=500, detail=exc.detail, kind="internal")
        return cls(status=500, detail=str(exc) or type(exc).__name__, kind="internal")

    @classmethod
    def of(cls, record: Optional[RunFailureRecord]) -> RunFailure:
        return cls.model_validate(record.model_dump()) if record is not None else cls()

    def frame(self) -> str:
        """The SSE error event (contract §6.4): rate limits and context overflows say what happened."""
        return error_frame(self.detail, self.code)

    def to_error(self, run_id: str) -> DomainError:
        """What a send answers for a failed run (README, "Failed runs"): the status says whether sending again can
        help. 404/400: a missing object or a rule stopped the run. A model that kept failing in a way that may pass:
        429 (rate limited) or 502 (timeouts, server errors); one that refused the request for good: 424, which SDKs
        do not retry. Storage: 503. Model failures name the run and the model's error. A client's retry of the same
        send resumes the failed run instead of running it again (logic/sending.py)."""
        if self.status == 404:
            return NotFoundError(self.detail)
        if self.status == 400:
            return BadRequestError(self.detail)
        if self.status == 503:
            return StorageUnavailableError()
        if self.kind == "model":
            detail = f"Run {run_id} failed: {self.detail}"
            if self.code == "rate_limit_exceeded":
                return TooManyRequestsError(detail)
            return BadGatewayError(detail) if self.retryable else FailedDependencyError(detail)
        if self.kind == "timeout":
            return GatewayTimeoutError(f"Run {run_id} failed: {self.detail}")
        return DomainError(INTERNAL_DETAIL)


class StepFailedError(Exception):
    """A failure that retrying will not fix: the run ends with it. (The state machine matches this name.)"""

    def __init__(self, failure: RunFailure) -> None:
        super().__init__(failure.encode())
        self.failure = failure


class RetryableStepError(Exception):
    """A model or storage failure worth retrying with backoff. (The state machine matches this name.)"""

    def __init__(self, failure: RunFailure) -> None:
        super().__init__(failure.encode())
        self.failure = failure


def failed(detail: str, *, status: int = 500, kind: str = "internal", code: Optional[str] = None) -> StepFailedError:
    return StepFailedError(RunFailure(status=status, detail=detail, kind=kind, code=code))


def retryable(detail: str, *, kind: str = "storage") -> RetryableStepError:
    return RetryableStepError(RunFailure(status=503 if kind == "storage" else 500, detail=detail, kind=kind))
