"""A realistic relay's timing and limits: per-route latency with jitter, and a per-key rate limit.

A real relay answers an embeddings batch in hundreds of milliseconds (more for bigger batches) and
limits each key; on loopback the emulator answers in microseconds and admits everything. ``Traffic``
(one per emulator, ``emu.traffic``) makes it behave like the relay:

- **latency** per route: ``base`` seconds, plus uniform jitter of ``+- jitter``, plus ``per_input``
  seconds for every input of the request (an embeddings request's ``input`` items), so a relay's time
  grows with the batch;
- **a per-key limit** (the key is the ``Authorization`` token): at most ``concurrent`` requests in
  flight and at most ``per_minute`` requests in any sliding 60 s window. Beyond it the request is
  answered at once with HTTP 429 and never reaches the model, as the one-api family's rate-limit
  middleware does. Its answer comes in two shapes (``body=``): ``"json"`` (default), the one-api error
  body that new-api's Redis limiter writes (``{"error": {"message": "... (request id: ...)", "type":
  "new_api_error"}}``), or ``"empty"``, the bare 429 of the in-memory limiter (one-api and new-api
  both answer ``c.Status(429)`` with no body). Neither relay sends ``Retry-After``; set
  ``retry_after=`` to add one (as OpenAI upstreams do);
- **observation**: requests admitted and rejected, the peak number in flight per key, and a
  timeline of ``(seconds since the limit was set, requests in flight)`` after every change, to see how
  a client's concurrency settles.

Example:
    >>> import json, urllib.error, urllib.request
    >>> from b3n.testing import Emulator
    >>> def embed(emu):
    ...     req = urllib.request.Request(emu.base_url + "/embeddings", headers={"Authorization": "Bearer sk-a"},
    ...                                  data=json.dumps({"model": "text-embedding-3-small", "input": ["x"]}).encode())
    ...     try:
    ...         return urllib.request.urlopen(req).status
    ...     except urllib.error.HTTPError as err:
    ...         return err.code, err.headers["Retry-After"]
    >>> with Emulator() as emu:
    ...     emu.traffic.set_latency("embeddings", 0.01, per_input=0.001)
    ...     emu.traffic.set_limit(per_minute=2, retry_after=1)
    ...     [embed(emu) for _ in range(3)], emu.traffic.rejected
    ([200, 200, (429, '1')], 1)
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ApiError, rate_limited

ANY_ROUTE = "*"
WINDOW_SECONDS = 60.0
LimitBody = Literal["json", "empty"]


@dataclass(frozen=True)
class Latency:
    """How long a route takes: ``base`` +- ``jitter`` (uniform) + ``per_input`` x inputs, in seconds."""

    base: float = 0.0
    jitter: float = 0.0
    per_input: float = 0.0

    def __post_init__(self) -> None:
        if min(self.base, self.jitter, self.per_input) < 0:
            raise ValueError("latency base, jitter and per_input must be >= 0")

    def sample(self, inputs: int, rng: random.Random) -> float:
        """Seconds for one request with ``inputs`` inputs (never negative)."""
        jitter = rng.uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        return max(0.0, self.base + jitter + self.per_input * inputs)


@dataclass(frozen=True)
class RateLimit:
    """A per-key limit: ``concurrent`` requests in flight, ``per_minute`` in any 60 s window (None: no limit)."""

    concurrent: int | None = None
    per_minute: int | None = None
    retry_after: float | None = None
    body: LimitBody = "json"

    def __post_init__(self) -> None:
        for name in ("concurrent", "per_minute"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        if self.body not in ("json", "empty"):
            raise ValueError("body must be 'json' or 'empty'")


@dataclass
class Ticket:
    """One request's admission: whether it may proceed, how long it takes, and the 429 if not."""

    key: str
    admitted: bool
    #: seconds the request takes in all, from :attr:`since` (``time.monotonic()`` at admission).
    delay: float
    reason: str = ""
    since: float = 0.0


@dataclass
class _KeyState:
    in_flight: int = 0
    peak: int = 0
    admitted: int = 0
    rejected: int = 0


class Traffic:
    """Latency and per-key limits for one emulator (``emu.traffic``); thread-safe, off by default."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._latency: dict[str, Latency] = {}
        self._limit: RateLimit | None = None
        self._keys: dict[str, _KeyState] = {}
        self._windows: dict[str, deque[float]] = {}
        self._timeline: list[tuple[float, int]] = []
        self._started = time.monotonic()

    # -- configuration ------------------------------------------------------------------------------
    def set_latency(
        self, route: str = ANY_ROUTE, base: float = 0.0, *, jitter: float = 0.0, per_input: float = 0.0,
        seed: int | None = None,
    ) -> None:
        """Delay every request to ``route`` (short name like ``"embeddings"``, or ``"*"``); 0s remove it."""
        from .routes import normalize_route  # the route table loads the whole emulator

        latency = Latency(base, jitter, per_input)
        key = normalize_route(route)
        with self._lock:
            if seed is not None:
                self._rng = random.Random(seed)
            if latency == Latency():
                self._latency.pop(key, None)
            else:
                self._latency[key] = latency

    def set_limit(
        self, concurrent: int | None = None, per_minute: int | None = None, *, retry_after: float | None = None,
        body: LimitBody = "json",
    ) -> None:
        """Limit each key; ``set_limit()`` with no limits removes it. Resets the observations."""
        limit = RateLimit(concurrent, per_minute, retry_after, body)
        with self._lock:
            self._limit = None if concurrent is None and per_minute is None else limit
            self._clear_observations()

    @property
    def limit(self) -> RateLimit | None:
        """The current per-key limit (None: unlimited)."""
        return self._limit

    def clear(self) -> None:
        """No latency, no limit, no observations."""
        with self._lock:
            self._latency.clear()
            self._limit = None
            self._clear_observations()

    def reset_observations(self) -> None:
        """Forget counts, peaks and the timeline (requests in flight stay counted)."""
        with self._lock:
            self._clear_observations()

    def _clear_observations(self) -> None:
        for state in self._keys.values():
            state.peak, state.admitted, state.rejected = state.in_flight, 0, 0
        self._windows.clear()
        self._timeline.clear()
        self._started = time.monotonic()

    # -- observation --------------------------------------------------------------------------------
    @property
    def admitted(self) -> int:
        """Requests let through (all keys) since the limit was set or observations were reset."""
        with self._lock:
            return sum(s.admitted for s in self._keys.values())

    @property
    def rejected(self) -> int:
        """Requests answered 429 by the limit (all keys)."""
        with self._lock:
            return sum(s.rejected for s in self._keys.values())

    @property
    def peak_concurrency(self) -> int:
        """Most requests of one key in flight at once."""
        with self._lock:
            return max((s.peak for s in self._keys.values()), default=0)

    @property
    def timeline(self) -> list[tuple[float, int]]:
        """``(seconds, requests in flight over all keys)`` after each admission and completion."""
        with self._lock:
            return list(self._timeline)

    # -- the handler's hooks ------------------------------------------------------------------------
    def admit(self, route: str, headers: dict[str, str], body: Any) -> Ticket:
        """Decide one request's fate; an admitted ticket must be passed to :meth:`release`."""
        key = _key_of(headers)
        inputs = _inputs_of(body)
        now = time.monotonic()
        with self._lock:
            latency = self._latency.get(route) or self._latency.get(ANY_ROUTE)
            delay = latency.sample(inputs, self._rng) if latency is not None else 0.0
            state = self._keys.setdefault(key, _KeyState())
            limit = self._limit
            reason = ""
            if limit is not None:
                window = self._windows.setdefault(key, deque())
                while window and now - window[0] >= WINDOW_SECONDS:
                    window.popleft()
                if limit.concurrent is not None and state.in_flight >= limit.concurrent:
                    reason = "concurrent"
                elif limit.per_minute is not None and len(window) >= limit.per_minute:
                    reason = "per_minute"
                else:
                    window.append(now)
            if reason:
                state.rejected += 1
                return Ticket(key, False, 0.0, reason)
            state.admitted += 1
            state.in_flight += 1
            state.peak = max(state.peak, state.in_flight)
            self._timeline.append((now - self._started, self._in_flight()))
            return Ticket(key, True, delay, since=now)

    def release(self, ticket: Ticket) -> None:
        """The admitted request is finished (answered, failed or abandoned)."""
        if not ticket.admitted:
            return
        with self._lock:
            state = self._keys[ticket.key]
            state.in_flight -= 1
            self._timeline.append((time.monotonic() - self._started, self._in_flight()))

    def rejection(self, ticket: Ticket, request_id: str) -> tuple[bytes, dict[str, str]]:
        """Body and headers of the 429 for a rejected ticket."""
        limit = self._limit or RateLimit()
        headers = {} if limit.retry_after is None else {"Retry-After": _seconds(limit.retry_after)}
        if limit.body == "empty":
            return b"", headers
        if ticket.reason == "per_minute":
            error = ApiError(429, f"您已达到请求数限制：1分钟内最多请求{limit.per_minute}次", type="new_api_error")
        else:
            error = rate_limited()
        return json.dumps(error.body(request_id), ensure_ascii=False).encode("utf-8"), headers

    def _in_flight(self) -> int:
        return sum(s.in_flight for s in self._keys.values())


def _key_of(headers: dict[str, str]) -> str:
    token = headers.get("authorization", "").strip()
    return token[7:].strip() if token.lower().startswith("bearer ") else token


def _inputs_of(body: Any) -> int:
    if isinstance(body, dict):
        items = body.get("input")
        if isinstance(items, list):
            return len(items)
    return 1


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# ----------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--latency``/``--limit-*`` options of ``b3n emulator`` and ``python -m b3n.testing``."""
    group = parser.add_argument_group("realistic relay (latency and per-key rate limits)")
    group.add_argument("--latency", type=float, default=0.0, metavar="S",
                       help="seconds every request takes (e.g. 0.3)")
    group.add_argument("--jitter", type=float, default=0.0, metavar="S", help="+- uniform jitter on --latency")
    group.add_argument("--per-input", type=float, default=0.0, metavar="S",
                       help="extra seconds per embeddings input (e.g. 0.001)")
    group.add_argument("--limit-concurrent", type=int, default=None, metavar="N",
                       help="429 beyond N requests in flight per key")
    group.add_argument("--limit-per-minute", type=int, default=None, metavar="N",
                       help="429 beyond N requests per key in any 60 s")
    group.add_argument("--retry-after", type=float, default=None, metavar="S",
                       help="send Retry-After: S with those 429s (the one-api family sends none)")


def configure(traffic: Traffic, args: argparse.Namespace) -> str:
    """Apply parsed :func:`add_arguments` options; returns a one-line description ('' when unset)."""
    parts: list[str] = []
    if args.latency or args.jitter or args.per_input:
        traffic.set_latency(ANY_ROUTE, args.latency, jitter=args.jitter, per_input=args.per_input)
        parts.append(f"latency {args.latency:g} s +- {args.jitter:g} + {args.per_input:g} s/input")
    if args.limit_concurrent is not None or args.limit_per_minute is not None:
        traffic.set_limit(args.limit_concurrent, args.limit_per_minute, retry_after=args.retry_after)
        limits = [f"{n} {what}" for n, what in ((args.limit_concurrent, "in flight"),
                                                (args.limit_per_minute, "per minute")) if n is not None]
        parts.append("limit " + ", ".join(limits) + " per key")
    return "; ".join(parts)


__all__ = ["Latency", "LimitBody", "RateLimit", "Ticket", "Traffic", "add_arguments", "configure"]
