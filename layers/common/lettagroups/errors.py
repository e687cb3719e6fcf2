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


class BadGatewayError(DomainError):
    """An agent's configured model could not be reached: the detail names the provider and the endpoint."""

    status_code = 502


class GatewayTimeoutError(DomainError):
    """A synchronous send outlived its deadline; the run goes on and can be followed by id."""

    status_code = 504
