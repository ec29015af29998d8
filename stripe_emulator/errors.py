"""The exception that route handlers raise to answer with a Stripe error body."""

from __future__ import annotations

from .objects import error_body
from .store import JSON


class ApiError(Exception):
    """An HTTP error with Stripe's `{"error": {...}}` body."""

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSON = error_body(message, type_=type_, code=code, param=param)


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, code=code, param=param)


def missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required param: {param}.", code="parameter_missing",
                    param=param)


def unknown(param: str) -> ApiError:
    return ApiError(400, f"Received unknown parameter: {param}", code="parameter_unknown",
                    param=param)


def no_such(kind: str, obj_id: str, param: str | None = None, status: int = 404) -> ApiError:
    return ApiError(status, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)
