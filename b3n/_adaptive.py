"""Adaptive concurrency: find how many requests the relay admits for this key, by watching its 429s.

A relay limits each key (requests in flight, requests per minute) and answers 429 beyond it. A fixed
``max_concurrency`` is either too low (a slow job) or too high (a storm of 429s and retries).
:class:`AdaptiveLimiter` starts at ``max_concurrency`` (the ceiling) and adjusts per attempt:

- **every attempt takes a slot** before it is sent and gives it back when it ends; a retry waits
  for a slot again, so retries never push the process over its limit;
- **on a 429** the limit drops to the number of this process's requests still in flight (they are
  what the relay admitted), at least 1. The refused request waits its ``Retry-After`` (the retry
  policy does that) and then a free slot; when nothing else of ours is in flight (the relay refuses
  the key outright, e.g. a requests-per-minute limit) no new attempt starts before ``Retry-After``
  has passed, at most :data:`MAX_PAUSE` seconds (no relay value pauses the key for longer);
- **while clean** the limit grows by one after as many successes as the limit (additive
  increase), up to the ceiling, so a limit that was lowered by a burst or by a neighbour comes back;
  growing back to a level the relay refused before takes ``PROBE_PATIENCE`` times longer, so a
  steady job probes rarely (each probe may cost a ``Retry-After`` pause).

A wait for a slot ends by the caller's deadline (``timeout`` / ``total_timeout``) with
:class:`~b3n._errors.B3nLimiterTimeoutError`; however a wait ends (deadline, Ctrl-C, cancellation), the
waiter leaves the queue and a slot granted meanwhile is given back.

One limiter is shared by every client with the same configuration in the process (base URL, key,
ceiling; see :func:`shared_limiter`), by threads and by every event loop alike: ten
``B3nEmbeddings`` instances with the same settings stay within one budget. The process keeps every
limiter in use and the :data:`KEEP_IDLE` most recently used idle ones, each with a bounded history. What happens to the
refused request is the retry policy's business (``b3n._retry``); the limiter only decides when an
attempt may start.

Example:
    >>> limiter = AdaptiveLimiter(4)
    >>> with limiter.slot() as slot:
    ...     slot.rate_limited(retry_after=0.0)
    >>> limiter.limit
    1
    >>> for _ in range(4):
    ...     with limiter.slot() as slot:
    ...         slot.succeeded()
    >>> limiter.limit
    2
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from b3n._errors import B3nConfigurationError, B3nLimiterTimeoutError

T = TypeVar("T")

#: history entries kept per limiter (each a change of the limit), the oldest dropped first.
HISTORY_SIZE = 256
#: the longest a 429's ``Retry-After`` pauses a key (the retry policy's default cap on its own sleep).
MAX_PAUSE = 60.0
#: idle limiters (nothing holds them) kept for reuse, most recently used first; limiters in use are always kept.
KEEP_IDLE = 64
#: growing back to a level that was refused before takes this many times more successes.
PROBE_PATIENCE = 4


@dataclass(eq=False)
class _Waiter:
    """One attempt waiting for a slot: a thread (``event``) or a task (``future`` on ``loop``)."""

    event: threading.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None
    granted: bool = False

    def wake(self) -> None:
        if self.event is not None:
            self.event.set()
        elif self.loop is not None and self.future is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(_resolve, self.future)

    def rearm(self) -> None:
        """Ready to be woken again (a thread's event cleared; a task's resolved future replaced)."""
        if self.event is not None:
            self.event.clear()
        elif self.loop is not None and self.future is not None and self.future.done():
            self.future = self.loop.create_future()


def _thread_waiter() -> _Waiter:
    return _Waiter(event=threading.Event())


def _task_waiter() -> _Waiter:
    loop = asyncio.get_running_loop()
    return _Waiter(loop=loop, future=loop.create_future())


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass
class Slot:
    """One attempt's permission to run; tell it how the attempt ended."""

    limiter: AdaptiveLimiter
    throttled: bool = False
    retry_after: float | None = None
    ok: bool = False
    #: the longest a 429 of this attempt pauses the key (capped at :data:`MAX_PAUSE` too).
    max_pause: float = MAX_PAUSE

    def rate_limited(self, retry_after: float | None = None) -> None:
        """The relay answered 429 (``retry_after``: its ``Retry-After`` in seconds, if any)."""
        self.throttled = True
        finite = retry_after is not None and math.isfinite(retry_after) and retry_after > 0
        self.retry_after = min(retry_after, self.max_pause, MAX_PAUSE) if finite and retry_after is not None else None

    def succeeded(self) -> None:
        """The attempt got its answer."""
        self.ok = True


@dataclass
class LimiterStats:
    """What a limiter saw: attempts admitted, 429s, the lowest and current limit, and its history."""

    admitted: int
    rate_limited: int
    limit: int
    lowest: int
    peak_in_flight: int
    #: ``(seconds since creation, limit, attempts in flight)`` after every change of the limit (the last
    #: :data:`HISTORY_SIZE`).
    history: list[tuple[float, int, int]] = field(default_factory=list)


class AdaptiveLimiter:
    """Concurrency for one key that starts at ``ceiling``, backs off on 429 and grows while clean.

    Thread-safe and usable from any number of event loops at once.
    """

    def __init__(self, ceiling: int) -> None:
        if isinstance(ceiling, bool) or not isinstance(ceiling, int) or ceiling < 1:
            raise B3nConfigurationError(
                f"max_concurrency must be a positive integer (1 = one request at a time), got {ceiling!r}."
            )
        self.ceiling = ceiling
        self._limit = ceiling
        self._in_flight = 0
        self._clean = 0
        self._paused_until = 0.0
        self._refused_at: int | None = None  # the lowest number in flight the relay refused
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()
        self._created = time.monotonic()
        self._admitted = 0
        self._throttled = 0
        self._lowest = ceiling
        self._peak = 0
        self._history: deque[tuple[float, int, int]] = deque(maxlen=HISTORY_SIZE)
        self._note()

    # -- observation --------------------------------------------------------------------------------
    @property
    def limit(self) -> int:
        """Attempts allowed in flight now."""
        return self._limit

    @property
    def in_flight(self) -> int:
        """Attempts running now."""
        return self._in_flight

    def stats(self) -> LimiterStats:
        """A snapshot of what the limiter saw."""
        with self._lock:
            return LimiterStats(self._admitted, self._throttled, self._limit, self._lowest, self._peak,
                                list(self._history))

    # -- taking and giving back slots ---------------------------------------------------------------
    @contextmanager
    def slot(self, deadline: float | None = None, max_pause: float = MAX_PAUSE) -> Iterator[Slot]:
        """Block until an attempt may start; the slot is given back when the block ends.

        ``deadline`` (a ``time.monotonic()`` value) bounds the wait: past it,
        :class:`~b3n._errors.B3nLimiterTimeoutError`. A 429 raised inside the block (an exception with
        ``status_code`` 429) is noted on the slot; its ``Retry-After`` pauses the key for at most
        ``max_pause`` (and :data:`MAX_PAUSE`) seconds.
        """
        waiter, pause = self._queue(_thread_waiter)
        try:
            self._wait_sync(waiter, pause, deadline)
        except BaseException:  # the deadline, Ctrl-C: leave the queue, or give back a slot granted meanwhile
            self._abandon(waiter)
            raise
        with self._held(max_pause) as slot:
            yield slot

    @asynccontextmanager
    async def aslot(self, deadline: float | None = None, max_pause: float = MAX_PAUSE) -> AsyncIterator[Slot]:
        """asyncio twin of :meth:`slot`: waits without blocking the event loop."""
        waiter, pause = self._queue(_task_waiter)
        try:
            await self._wait_async(waiter, pause, deadline)
        except BaseException:  # the deadline, cancellation
            self._abandon(waiter)
            raise
        with self._held(max_pause) as slot:
            yield slot

    def guard(
        self, attempt: Callable[..., Iterator[T]], deadline: Callable[..., float | None] | None = None,
        max_pause: float = MAX_PAUSE,
    ) -> Callable[..., Iterator[T]]:
        """Wrap an attempt (an iterator function, as ``b3n._retry.retrying`` runs them) in a slot.

        ``deadline``, called with the attempt's arguments, says until when the attempt may wait for its slot;
        a 429 pauses the key for its ``Retry-After``, at most ``max_pause`` (and :data:`MAX_PAUSE`) seconds.
        """

        def guarded(*args: Any, **kwargs: Any) -> Iterator[T]:
            with self.slot(deadline(*args, **kwargs) if deadline is not None else None, max_pause) as slot:
                for item in attempt(*args, **kwargs):
                    slot.succeeded()
                    yield item

        return guarded

    def aguard(
        self, attempt: Callable[..., AsyncIterator[T]], deadline: Callable[..., float | None] | None = None,
        max_pause: float = MAX_PAUSE,
    ) -> Callable[..., AsyncIterator[T]]:
        """asyncio twin of :meth:`guard`."""

        async def guarded(*args: Any, **kwargs: Any) -> AsyncIterator[T]:
            async with self.aslot(deadline(*args, **kwargs) if deadline is not None else None, max_pause) as slot:
                async for item in attempt(*args, **kwargs):
                    slot.succeeded()
                    yield item

        return guarded

    # -- what both twins share ------------------------------------------------------------------------
    def _queue(self, new_waiter: Callable[[], _Waiter]) -> tuple[_Waiter | None, float | None]:
        """Start at once (``(None, None)``), or queue a waiter: ``(waiter, seconds a pause has left)``."""
        with self._lock:
            if self._can_start():
                self._start()
                return None, None
            waiter = new_waiter()
            self._waiters.append(waiter)
            return waiter, self._pause_left()

    @contextmanager
    def _held(self, max_pause: float) -> Iterator[Slot]:
        """A granted slot: given back (and a 429 noted) when the attempt ends."""
        slot = Slot(self, max_pause=max_pause)
        try:
            yield slot
        except Exception as exc:
            _note_failure(slot, exc)
            raise
        finally:
            self._finish(slot)

    # -- internals (call with the lock held unless said otherwise) ----------------------------------
    def _can_start(self) -> bool:
        return not self._waiters and self._in_flight < self._limit and time.monotonic() >= self._paused_until

    def _start(self) -> None:
        self._in_flight += 1
        self._admitted += 1
        self._peak = max(self._peak, self._in_flight)

    def _note(self) -> None:
        if not self._history or self._history[-1][1] != self._limit:
            self._history.append((time.monotonic() - self._created, self._limit, self._in_flight))

    def _pause_left(self) -> float | None:
        pause = self._paused_until - time.monotonic()
        return pause if pause > 0 else None

    def _dispatch(self) -> float | None:
        """Grant slots to waiters in order; returns seconds until a pause ends (None: not paused)."""
        pause = self._pause_left()
        if pause is not None:
            return pause
        while self._waiters and self._in_flight < self._limit:
            waiter = self._waiters.popleft()
            if waiter.loop is not None and waiter.loop.is_closed():
                continue  # its event loop is gone: nobody will ever use (or give back) the slot
            waiter.granted = True
            self._start()
            try:
                waiter.wake()
            except RuntimeError:  # the loop closed just now
                waiter.granted = False
                self._in_flight -= 1
        return None

    def _wait_sync(self, waiter: _Waiter | None, pause: float | None, deadline: float | None) -> None:
        if waiter is None:
            return
        assert waiter.event is not None
        granted = False
        while not granted:
            waiter.event.wait(self._wait_for(pause, deadline))
            granted, pause = self._recheck(waiter)

    async def _wait_async(self, waiter: _Waiter | None, pause: float | None, deadline: float | None) -> None:
        if waiter is None:
            return
        granted = False
        while not granted:
            assert waiter.future is not None
            timeout = self._wait_for(pause, deadline)
            if timeout is None:
                await asyncio.shield(waiter.future)
            else:
                await asyncio.wait({waiter.future}, timeout=timeout)
            granted, pause = self._recheck(waiter)

    def _wait_for(self, pause: float | None, deadline: float | None) -> float | None:
        """Seconds to wait before re-checking (None: until woken); past ``deadline``, the timeout error."""
        if deadline is None:
            return pause
        left = deadline - time.monotonic()
        if left <= 0 or (pause is not None and pause >= left):
            raise self._timed_out(pause)
        return left if pause is None else pause

    def _timed_out(self, pause: float | None) -> B3nLimiterTimeoutError:
        why = (f"the relay asked this key to pause (429 with Retry-After) for {pause:.1f}s more"
               if pause is not None else f"all {self._limit} slot(s) were taken by other requests of this process")
        return B3nLimiterTimeoutError(
            f"The request was not sent: it waited for a slot of the adaptive limiter until timeout/total_timeout "
            f"ran out ({why}). Raise timeout or total_timeout, or send fewer requests at once."
        )

    def _abandon(self, waiter: _Waiter | None) -> None:
        """A wait ended without the slot being used: leave the queue, or give back a slot granted meanwhile."""
        if waiter is None:
            return
        with self._lock:
            if waiter.granted:
                self._in_flight -= 1
                pause = self._dispatch()
            else:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                pause = self._dispatch()
            head = self._waiters[0] if self._waiters else None
        if pause is not None and head is not None:
            head.wake()

    def _recheck(self, waiter: _Waiter) -> tuple[bool, float | None]:
        """After a wake-up (call without the lock): granted, or not yet and the seconds a pause has left."""
        with self._lock:
            if not waiter.granted:
                pause = self._dispatch()
                if not waiter.granted:
                    waiter.rearm()
                    return False, pause
        return True, None

    def _finish(self, slot: Slot) -> None:
        with self._lock:
            self._in_flight -= 1
            if slot.throttled:
                self._throttled += 1
                self._clean = 0
                # what the relay still runs for us is what it admits; one less than now at the least
                self._limit = max(1, min(self._limit - 1, self._in_flight))
                self._lowest = min(self._lowest, self._limit)
                refused = self._in_flight + 1
                self._refused_at = refused if self._refused_at is None else min(self._refused_at, refused)
                if slot.retry_after and self._in_flight == 0:
                    # nothing of ours is running: the relay refuses the key (a rate, not a concurrency
                    # limit), so nothing new starts before Retry-After has passed
                    self._paused_until = max(self._paused_until, time.monotonic() + slot.retry_after)
            elif slot.ok:
                self._clean += 1
                probing = self._refused_at is not None and self._limit + 1 >= self._refused_at
                if self._clean >= self._limit * (PROBE_PATIENCE if probing else 1) and self._limit < self.ceiling:
                    self._limit += 1
                    self._clean = 0
                    if probing:
                        self._refused_at = None
            self._note()
            pause = self._dispatch()
            head = self._waiters[0] if self._waiters else None
        if pause is not None and head is not None:
            head.wake()  # the head waiter re-checks when the pause is over

    def __repr__(self) -> str:
        return f"AdaptiveLimiter(limit={self._limit}, ceiling={self.ceiling}, in_flight={self._in_flight})"


def _note_failure(slot: Slot, exc: Exception) -> None:
    status = getattr(exc, "status_code", None)
    if status == 429:
        slot.rate_limited(getattr(exc, "retry_after", None))


# ----------------------------------------------------------------------------- sharing


_Key = tuple[str, str, str, int]
_registry_lock = threading.Lock()
#: every limiter something still holds (a running job, a batch, a client), found again by its key.
_registry: weakref.WeakValueDictionary[_Key, AdaptiveLimiter] = weakref.WeakValueDictionary()
#: the most recently used limiters, held so an idle one keeps what it learned (at most :data:`KEEP_IDLE`).
_recent: OrderedDict[_Key, AdaptiveLimiter] = OrderedDict()


def shared_limiter(base_url: str, api_key: str | None, ceiling: int, scope: str = "embeddings") -> AdaptiveLimiter:
    """The process's limiter for this relay, key and ceiling (created on first use).

    Only a digest of the key is kept. ``scope`` separates kinds of calls that the relay limits apart.
    A limiter nothing holds is kept while it is among the :data:`KEEP_IDLE` most recently used.

    Example:
        >>> shared_limiter("http://relay/v1", "sk-a", 8) is shared_limiter("http://relay/v1", "sk-a", 8)
        True
        >>> shared_limiter("http://relay/v1", "sk-a", 8) is shared_limiter("http://relay/v1", "sk-b", 8)
        False
    """
    digest = hashlib.sha256((api_key or "").encode("utf-8")).hexdigest()[:16]
    key = (base_url, digest, scope, ceiling)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = AdaptiveLimiter(ceiling)
        _recent[key] = limiter
        _recent.move_to_end(key)
        while len(_recent) > KEEP_IDLE:
            _recent.popitem(last=False)
    return limiter


#: where a batch's limiter starts (its ceiling) when the batch sets no ``max_concurrency``.
DEFAULT_BATCH_CEILING = 16


def batch_limiter(
    base_url: str, api_key: str | None, max_concurrency: int | None, scope: str = "chat"
) -> AdaptiveLimiter:
    """The shared limiter of a batch of calls: ceiling ``max_concurrency`` (default ``DEFAULT_BATCH_CEILING``).

    Example:
        >>> batch_limiter("http://relay/v1", "sk-a", None).ceiling, batch_limiter("http://relay/v1", "sk-a", 4).ceiling
        (16, 4)
    """
    ceiling = DEFAULT_BATCH_CEILING if max_concurrency is None else max_concurrency
    return shared_limiter(base_url, api_key, ceiling, scope)


_GATE: ContextVar[AdaptiveLimiter | None] = ContextVar("b3n_gate", default=None)


@contextmanager
def gating(limiter: AdaptiveLimiter | None) -> Iterator[AdaptiveLimiter | None]:
    """Within the block, every chat request takes a slot of ``limiter`` for each attempt (None: no gate).

    The gate travels with the context: asyncio tasks created within the block and threads run with a
    copy of it (as LangChain's batch executor does) use it too. A batch sets it around its calls.

    Example:
        >>> limiter = AdaptiveLimiter(2)
        >>> with gating(limiter):
        ...     current_gate() is limiter
        True
        >>> current_gate() is None
        True
    """
    token = _GATE.set(limiter)
    try:
        yield limiter
    finally:
        _GATE.reset(token)


def current_gate() -> AdaptiveLimiter | None:
    """The limiter set by the innermost :func:`gating` block of this context, if any."""
    return _GATE.get()


def _forget_after_fork() -> None:
    """A forked child starts with fresh limiters (the parent's locks and waiters mean nothing there)."""
    global _registry_lock
    _registry_lock = threading.Lock()
    _recent.clear()
    _registry.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


__all__ = [
    "DEFAULT_BATCH_CEILING",
    "KEEP_IDLE",
    "MAX_PAUSE",
    "AdaptiveLimiter",
    "LimiterStats",
    "Slot",
    "batch_limiter",
    "current_gate",
    "gating",
    "shared_limiter",
]
