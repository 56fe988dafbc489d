"""Retry policy: what is safe to retry, and how long to wait.

Retried: connection failures, timeouts before a response, and HTTP 408/409/429/5xx.
Never retried: auth, quota, "model not available", bad requests, and any stream that
already delivered content.

Example:
    >>> policy = RetryPolicy(max_retries=2)
    >>> 0 < policy.delay(0) <= 0.5
    True
    >>> policy.delay(1, retry_after=3.0)
    3.0
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if "," in value or " " in value else None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring (capped) ``Retry-After``."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry number ``attempt + 1`` (attempt counts from 0)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def should_retry_status(self, status: int, code: str | None = None) -> bool:
        if code in ("model_not_found", "insufficient_user_quota"):
            return False
        return status in RETRYABLE_STATUS or status >= 500
