"""Fault injection: queued faults (``inject``) and random faults at a rate (``set_fault_rate``)."""

from __future__ import annotations

import html
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

FAULT_KINDS = frozenset(
    {
        "rate_limit",
        "server_error",
        "quota",
        "auth",
        "model_unavailable",
        "drop",
        "stream_cut",
        "malformed_chunk",
        "slow_first_byte",
        "stall",
        "bad_json",
        "empty_choices",
        # relay token / quota errors and new-api's mid-stream error (see b3n.testing.relays)
        "token_exhausted",
        "token_expired",
        "token_disabled",
        "token_invalid",
        "token_missing",
        "user_quota",
        "midstream_error",
    }
)
ANY_ROUTE = "*"


@dataclass
class Fault:
    """One fault to apply to one request."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def after(self) -> int:
        """Chunks sent before the fault strikes (stream faults)."""
        return int(self.params.get("after", 3))

    @property
    def delay(self) -> float:
        """Seconds of delay (slow_first_byte, stall)."""
        return float(self.params.get("delay", 1.0))

    @property
    def status(self) -> int:
        """HTTP status of a server_error."""
        return int(self.params.get("status", 500))


def check_kind(kind: str) -> None:
    """Raise ValueError for an unknown fault kind."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")


def html_error_page(status: int) -> bytes:
    """The HTML page a CDN in front of the relay answers with."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    title = html.escape(f"{status} {phrase}")
    return (
        f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
        "<hr><center>cloudflare</center></body></html>"
    ).encode()


@dataclass
class _Queued:
    fault: Fault
    remaining: int


@dataclass
class _Rate:
    rate: float
    rng: random.Random
    params: dict[str, Any]


class FaultBook:
    """Thread-safe store of pending faults per route key (``"*"`` = any route)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[_Queued]] = {}
        self._rates: dict[tuple[str, str], _Rate] = {}

    def inject(self, kind: str, route: str, times: int, params: dict[str, Any]) -> None:
        check_kind(kind)
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._queues.setdefault(route, deque()).append(_Queued(Fault(kind, dict(params)), times))

    def set_rate(self, kind: str, rate: float, route: str, seed: int, params: dict[str, Any]) -> None:
        check_kind(kind)
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            if rate == 0:
                self._rates.pop((route, kind), None)
            else:
                self._rates[(route, kind)] = _Rate(rate, random.Random(seed), dict(params))

    def take(self, route: str) -> Fault | None:
        """The fault for the next request to ``route`` (consumes one use), or None."""
        with self._lock:
            for key in (route, ANY_ROUTE):
                queue = self._queues.get(key)
                if queue:
                    head = queue[0]
                    head.remaining -= 1
                    if head.remaining <= 0:
                        queue.popleft()
                    return head.fault
            for (key, kind), entry in sorted(self._rates.items()):
                if key in (route, ANY_ROUTE) and entry.rng.random() < entry.rate:
                    return Fault(kind, dict(entry.params))
        return None

    def pending(self) -> int:
        """Number of queued fault uses left."""
        with self._lock:
            return sum(q.remaining for queue in self._queues.values() for q in queue)

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
            self._rates.clear()
