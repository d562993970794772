"""The errors the client raises, one class per kind of failure, shared by name with the JS SDK."""

from __future__ import annotations

import builtins
from typing import Optional


class APIError(Exception):
    """Base class of every error the client raises.

    Attributes:
        status_code: The HTTP status, or ``None`` when no response arrived.
        code: The relay's snake_case error code (``not_found``, ``rate_limited``, …), or the
            client's own (``connection_error``, ``timeout``) when there is no response.
        message: The human sentence that explains it.
        request_id: The relay's request id, when it sent one; quote it in bug reports.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: Optional[int] = None,
        code: str = "api_error",
        request_id: Optional[str] = None,
    ) -> None:
        """Create an error; the relay's answers are turned into errors by :func:`error_for_status`."""
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        """Render as ``<status> <code>: <message>``, the way logs read best."""
        status = f"{self.status_code} " if self.status_code is not None else ""
        return f"{status}{self.code}: {self.message}"


class AuthenticationError(APIError):
    """401: the credentials are missing, wrong, expired, or a replayed HMAC signature."""


class PermissionDeniedError(APIError):
    """403: authenticated, but not allowed.

    Codes: ``forbidden``, ``sender_mismatch``, ``policy_denied``, ``invalid_signature``.
    """


class NotFoundError(APIError):
    """404: no such agent or message, or the lease being settled is no longer this client's."""


class ConflictError(APIError):
    """409: the same message id was sent before with different content (``id_conflict``)."""


class RateLimitError(APIError):
    """429: over the key's requests-per-minute limit; ``retry_after`` is the relay's advice in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status_code: Optional[int] = 429,
        code: str = "rate_limited",
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        """Create the error with the relay's ``Retry-After`` advice, when it gave one."""
        super().__init__(message, status_code=status_code, code=code, request_id=request_id)
        self.retry_after = retry_after


class ValidationError(APIError):
    """400, 413 or 422: the relay refused the request's content.

    Codes: ``validation_failed``, ``payload_too_large``, ``ttl_too_long``,
    ``timestamp_window_exceeded``, ``invalid_json``.
    """


class APIConnectionError(APIError):
    """No answer from the relay: it could not be reached, or the connection broke."""


class TimeoutError(APIError, builtins.TimeoutError):
    """A request, or :meth:`ADMPClient.wait_for_reply`, ran out of time.

    It is also a built-in :class:`TimeoutError`, so ``except TimeoutError`` catches it either way.
    """


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    415: ValidationError,
    422: ValidationError,
    429: RateLimitError,
}


def error_for_status(
    status_code: int,
    code: str,
    message: str,
    *,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
) -> APIError:
    """Build the error class that matches an HTTP status (``APIError`` itself for 5xx and the rest)."""
    cls = _BY_STATUS.get(status_code, APIError)
    if cls is RateLimitError:
        return RateLimitError(
            message, status_code=status_code, code=code, request_id=request_id, retry_after=retry_after
        )
    return cls(message, status_code=status_code, code=code, request_id=request_id)


# A batch item's error carries only the relay's code; its status is the one the single operation
# would have answered with (SPEC: Errors), so an item's error maps to the class that operation raises.
_STATUS_BY_CODE: dict[str, int] = {
    "invalid_json": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "sender_mismatch": 403,
    "policy_denied": 403,
    "invalid_signature": 403,
    "not_found": 404,
    "id_conflict": 409,
    "invalid_state": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "validation_failed": 422,
    "ttl_too_long": 422,
    "timestamp_window_exceeded": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "unavailable": 503,
}


def status_for_code(code: str) -> Optional[int]:
    """The HTTP status the relay answers a single request with for the error ``code``, if known."""
    return _STATUS_BY_CODE.get(code)
