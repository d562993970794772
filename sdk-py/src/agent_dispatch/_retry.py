"""When to retry and how long to wait, shared by the async client and its sync twin.

Network errors, 408, 429 and 5xx are retried with exponential backoff and full jitter; a
``Retry-After`` from the relay is honoured (capped, so a confused proxy cannot park the client).
Everything else is final: repeating a 4xx gives the same answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Optional

from .errors import APIConnectionError, APIError, RateLimitError, TimeoutError

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how the waits grow (``base * 2**attempt``, capped, jittered)."""

    retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, error: APIError, retry_after: Optional[float] = None) -> Optional[float]:
        """Seconds to wait before retry number ``attempt + 1``, or ``None`` when ``error`` is final."""
        if attempt >= self.retries or not is_retryable(error):
            return None
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


def is_retryable(error: APIError) -> bool:
    """Network errors, timeouts, 408, 429 and 5xx may succeed when repeated; nothing else will."""
    if isinstance(error, (APIConnectionError, TimeoutError)):
        return True
    if isinstance(error, RateLimitError):
        return True
    return error.status_code is not None and (
        error.status_code in RETRYABLE_STATUS or error.status_code >= 500
    )


def parse_retry_after(value: Optional[str], now: Optional[datetime] = None) -> Optional[float]:
    """Read ``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)


def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Full-jitter exponential backoff for reconnecting subscriptions."""
    return random.uniform(base / 2, min(cap, base * 2**attempt))
