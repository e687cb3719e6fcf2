"""Typed model-provider failures. Every provider maps its transport and API errors onto these.

`retryable` tells the orchestrator whether running the same step again may succeed:

| Error                       | retryable | When                                                                 |
|-----------------------------|-----------|----------------------------------------------------------------------|
| RateLimitedError            | yes       | 429 / ThrottlingException (`retry_after` seconds when the API says)   |
| ModelTimeoutError           | yes       | connect/read timeout, deadline passed, 408/504                        |
| ModelServerError            | yes       | 5xx, connection reset mid-answer, unparsable answer                   |
| ModelUnavailableError       | yes       | the configured endpoint cannot be reached (refused, DNS, connect      |
|                             |           | timeout); a run that ends on it is a 502 naming provider and endpoint |
| MalformedToolCallError      | yes       | tool-call arguments that are not a JSON object; the step re-asks once |
|                             |           | itself, so when it surfaces a whole-step retry is the last resort     |
| ModelBadRequestError        | no        | other 4xx: the request itself is wrong (model id, schema, …)          |
| ContextWindowExceededError  | no        | the prompt does not fit the model (subclass of ModelBadRequestError)  |
| ModelAuthError              | no        | 401/403, missing credentials (subclass of ModelBadRequestError)       |
| UnsupportedModelError       | no        | no provider for the configured `model_endpoint_type`                  |

The class names are stable: Step Functions `Retry` matches on them (`ErrorEquals`).
"""

from __future__ import annotations

from typing import Optional


class ModelError(Exception):
    retryable = False
    default_code: Optional[str] = None

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        retry_after: Optional[float] = None,
        provider: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code or self.default_code
        self.retry_after = retry_after
        self.provider = provider


class RateLimitedError(ModelError):
    retryable = True
    default_code = "rate_limit_exceeded"


class ModelTimeoutError(ModelError):
    retryable = True
    default_code = "timeout"


class ModelServerError(ModelError):
    retryable = True
    default_code = "server_error"


class ModelUnavailableError(ModelServerError):
    """The agent's configured model cannot be reached. Never answered by a substitute model: the run fails
    with this message (which names the provider and the endpoint) in the send's 502, the SSE error frame and
    the run record, so a user who pointed an agent at a local server that is not running sees why."""

    default_code = "model_unavailable"


class MalformedToolCallError(ModelError):
    retryable = True
    default_code = "malformed_tool_call"


class ModelBadRequestError(ModelError):
    retryable = False
    default_code = "bad_request"


class ContextWindowExceededError(ModelBadRequestError):
    default_code = "context_window_exceeded"


class ModelAuthError(ModelBadRequestError):
    default_code = "unauthorized"


class UnsupportedModelError(ModelBadRequestError):
    default_code = "unsupported_model"


def error_for_status(
    status: int, message: str, *, provider: str, code: Optional[str] = None, retry_after: Optional[float] = None
) -> ModelError:
    """The typed error for an HTTP status of a model API."""
    lowered = (message or "").lower()
    if status == 429:
        return RateLimitedError(message, status=status, retry_after=retry_after, provider=provider)
    if status in (408, 504):
        return ModelTimeoutError(message, status=status, provider=provider)
    if status >= 500:
        return ModelServerError(message, status=status, provider=provider)
    if status in (401, 403):
        return ModelAuthError(message, status=status, provider=provider)
    if code == "context_length_exceeded" or "context length" in lowered or "context window" in lowered or "too long" in lowered:
        return ContextWindowExceededError(message, status=status, provider=provider)
    return ModelBadRequestError(message, status=status, code=code, provider=provider)
