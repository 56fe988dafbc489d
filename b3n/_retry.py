"""The one retry policy: what may be retried, how long to wait, and the loop that does it.

Every decision lives here:

- **which errors** may succeed on a second try (:func:`is_retryable`, each class's ``retryable``): connection failures,
  timeouts, 408/409, 429 and 5xx. Never auth, quota, "model not available", bad requests, an
  unparseable 200, an error the relay reported inside a 200 stream (it already tried its
  channels), or a stream that already delivered content;
- **whether the request may be repeated at all** (:func:`provably_not_processed`): a *billed*
  call (image generation, speech) is repeated only when the relay cannot have started the work
  (the connection was never made, 429, 408), unless ``retry_billed=True``;
- **how long to wait** (:meth:`RetryPolicy.delay`): exponential backoff with full jitter, or the
  server's ``retry-after-ms`` / ``Retry-After`` (capped; malformed values count as absent);
- **the loop** (:func:`retrying` and its asyncio twin :func:`aretrying`): one per twin in the whole
  core. An attempt is an iterator; the loop retries until the attempt delivers its first item, so
  the same loop serves whole-body requests (one item: the read response), SSE streams and audio
  streams ("retry until the first content"), and never nests.

Example:
    >>> policy = RetryPolicy(max_retries=2)
    >>> 0 < policy.delay(0) <= 0.5
    True
    >>> policy.delay(1, retry_after=3.0)
    3.0
    >>> from b3n import B3nRateLimitError, B3nServerError
    >>> policy.decide(0, B3nServerError("busy"), billed=False) > 0
    True
    >>> type(policy.decide(0, B3nServerError("busy"), billed=True)).__name__
    'B3nPossiblyBilledError'
    >>> policy.decide(0, B3nRateLimitError("slow down"), billed=True) > 0
    True
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from b3n._errors import (
    B3nAPIStatusError,
    B3nError,
    B3nPossiblyBilledError,
    B3nRateLimitError,
    B3nTimeoutError,
)
from b3n._lazy import httpx

T = TypeVar("T")

#: names of the httpx failures that happen before a single byte of the request reached the server
#: (looked up when first needed: importing httpx is deferred, see b3n._lazy).
NOT_SENT_EXCEPTION_NAMES = ("ConnectError", "ConnectTimeout", "PoolTimeout", "ProxyError")


def not_sent_exceptions() -> tuple[type[Exception], ...]:
    """The httpx exception classes of :data:`NOT_SENT_EXCEPTION_NAMES`."""
    return tuple(getattr(httpx, name) for name in NOT_SENT_EXCEPTION_NAMES)

#: statuses the relay answers before any upstream work starts (so nothing was billed).
NOT_PROCESSED_STATUSES = frozenset({408, 429})


def is_retryable(error_class: type[B3nError]) -> bool:
    """Whether an error of this class may go away if the same request is sent again.

    Example:
        >>> from b3n import B3nAuthenticationError, B3nServerError
        >>> is_retryable(B3nServerError), is_retryable(B3nAuthenticationError)
        (True, False)
    """
    return error_class.retryable


def request_was_sent(exc: BaseException) -> bool:
    """False when ``exc`` proves the request never left this process (no connection was made)."""
    return not isinstance(exc, not_sent_exceptions())


def provably_not_processed(error: B3nError) -> bool:
    """Whether the relay certainly did not start (and bill) the work of the failed request.

    Example:
        >>> from b3n import B3nRateLimitError, B3nTimeoutError
        >>> provably_not_processed(B3nRateLimitError("x", status_code=429))
        True
        >>> provably_not_processed(B3nTimeoutError("read timeout"))
        False
    """
    if not error.request_sent or isinstance(error, B3nRateLimitError):
        return True
    return isinstance(error, B3nAPIStatusError) and error.status_code in NOT_PROCESSED_STATUSES


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date); None if malformed.

    Example:
        >>> parse_retry_after("3"), parse_retry_after("next week"), parse_retry_after("Fri, 99 Foo 2026 x")
        (3.0, None, None)
    """
    if not value:
        return None
    value = value.strip()
    seconds = _finite_seconds(value)
    if seconds is None:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if parsed is None:  # Python < 3.10.? returned None instead of raising
            return None
        try:
            seconds = parsed.timestamp() - (time.time() if now is None else now)
        except (OverflowError, OSError, ValueError):
            return None
    return max(0.0, seconds)


def _finite_seconds(value: str) -> float | None:
    """``value`` as a finite number of seconds, or None (``float`` accepts 'nan', 'inf', '1_0', '²'...)."""
    if not value.isascii() or not value.replace(".", "", 1).isdigit():
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) else None


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms`` first (OpenAI's), else ``Retry-After``.

    Example:
        >>> retry_after_from_headers({"retry-after-ms": "250", "retry-after": "9"})
        0.25
        >>> retry_after_from_headers({"retry-after-ms": "²", "retry-after": "next week"}) is None
        True
    """
    ms = headers.get("retry-after-ms")
    if ms:
        seconds = _finite_seconds(ms.strip())
        if seconds is not None:
            return seconds / 1000
    return parse_retry_after(headers.get("retry-after"))


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry, how long to wait, and whether billed calls may be repeated."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    #: repeat billed calls (images, speech) even when the first attempt may have been processed.
    retry_billed: bool = False

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry number ``attempt + 1`` (attempt counts from 0)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def decide(self, attempt: int, error: B3nError, *, billed: bool) -> float | B3nError:
        """After failed attempt number ``attempt`` (from 0): seconds to wait, or the error to raise.

        ``B3nPossiblyBilledError`` means "would have retried, but the call may already be billed"; with
        no retries left (or ``max_retries=0``) the underlying error is raised as it is.
        """
        if not error.retryable or (isinstance(error, B3nAPIStatusError) and error.inside_stream):
            return error
        if attempt >= self.max_retries:
            return error
        if billed and not self.retry_billed and not provably_not_processed(error):
            return B3nPossiblyBilledError.from_error(error)
        retry_after = error.retry_after if isinstance(error, B3nAPIStatusError) else None
        return self.delay(attempt, retry_after)


@dataclass(frozen=True)
class Attempts:
    """What the loop needs to know about one call's attempts besides the attempt itself.

    ``to_error`` turns a failure into a typed error; once an item was delivered a failure is never
    retried and ``interrupted(exc, error)`` says what to raise instead. ``billed``: see
    :meth:`RetryPolicy.decide`. ``deadline`` (a ``time.monotonic()`` value) bounds the whole call,
    waits included.
    """

    policy: RetryPolicy
    to_error: Callable[[Exception], B3nError]
    interrupted: Callable[[Exception, B3nError], B3nError]
    billed: bool = False
    deadline: float | None = None

    def wait_after(self, tries: int, exc: Exception, delivered: bool) -> float:
        """Seconds to wait after failed attempt number ``tries`` (from 0), or raise what the caller gets."""
        error = self.to_error(exc)
        if delivered:
            raise self.interrupted(exc, error) from None
        decision = self.policy.decide(tries, error, billed=self.billed)
        if isinstance(decision, B3nError):
            raise decision from None
        if self.deadline is not None and time.monotonic() + decision >= self.deadline:
            raise B3nTimeoutError(
                f"{error.message} Not retried: waiting {decision:.1f}s would pass total_timeout. "
                "Raise total_timeout, or try again later."
            ) from None
        return decision


def retrying(attempts: Attempts, attempt: Callable[[], Iterator[T]]) -> Iterator[T]:
    """Yield what ``attempt()`` yields, starting it again (per ``attempts.policy``) until its first item."""
    tries = 0
    while True:
        delivered = False
        try:
            for item in attempt():
                delivered = True
                yield item
            return
        except Exception as exc:
            wait = attempts.wait_after(tries, exc, delivered)
        time.sleep(wait)
        tries += 1


async def aretrying(attempts: Attempts, attempt: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
    """asyncio twin of :func:`retrying`."""
    tries = 0
    while True:
        delivered = False
        try:
            async for item in attempt():
                delivered = True
                yield item
            return
        except Exception as exc:
            wait = attempts.wait_after(tries, exc, delivered)
        await asyncio.sleep(wait)
        tries += 1


def first(items: Iterator[T]) -> T:
    """The first item of a retrying iterator, closing it at once (whole-body requests yield one item)."""
    try:
        return next(items)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


async def afirst(items: AsyncIterator[T]) -> T:
    """asyncio twin of :func:`first`."""
    try:
        return await items.__anext__()
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()
