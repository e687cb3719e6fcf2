"""Domain errors. Logic raises these; the API layer maps them to HTTP statuses in one place."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequestError(DomainError):
    status_code = 400


class UnauthorizedError(DomainError):
    status_code = 401


class ForbiddenError(DomainError):
    status_code = 403


class NotFoundError(DomainError):
    status_code = 404


class ConflictError(DomainError):
    status_code = 409


class PayloadTooLargeError(DomainError):
    status_code = 413


class StorageUnavailableError(DomainError):
    status_code = 503

    def __init__(self, detail: str = "The database is temporarily unavailable. Please try again later.") -> None:
        super().__init__(detail)


class GatewayTimeoutError(DomainError):
    """A synchronous send outlived its deadline; the run goes on and can be followed by id."""

    status_code = 504


class FailedDependencyError(DomainError):
    """A run failed because an agent's model refused the request for good (a wrong model, key or prompt): sending
    the same again cannot succeed, so clients must not retry it (SDKs retry 5xx, 408, 409 and 429, not 424)."""

    status_code = 424


class TooManyRequestsError(DomainError):
    """An agent's model kept answering "rate limited" after the run's own retries; worth retrying later."""

    status_code = 429


class BadGatewayError(DomainError):
    """An agent's model kept failing (timeouts, server errors, an endpoint that cannot be reached: the detail names
    the provider and the endpoint) after the run's own retries; worth retrying later."""

    status_code = 502
