"""What one call sends: the caller's options (:class:`CallOptions`) and the call built from them."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any, Literal

from b3n._errors import B3nInvalidRequestError
from b3n._lazy import httpx
from b3n._version import __version__

if TYPE_CHECKING:  # the limiter loads with the transport
    from b3n._adaptive import AdaptiveLimiter

#: ``anthropic_key``: the API key as Claude's native route takes it (``x-api-key`` + ``anthropic-version``).
#: the ``anthropic-version`` header sent with ``anthropic_key``.
ANTHROPIC_VERSION = "2023-06-01"
Credential = Literal["api_key", "anthropic_key", "access_token", "none"]
USER_AGENT = f"b3n-integrations/{__version__}"


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON (``ensure_ascii=False``); refuse values JSON cannot carry."""
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise B3nInvalidRequestError(
            f"The request body is not JSON-serialisable: {exc}. Pass plain str/int/float/bool/list/dict values."
        ) from None


@dataclass(frozen=True)
class CallOptions:
    """What a call asks for: the arguments of :meth:`SyncTransport.request` (declared once, here)."""

    method: str
    path: str
    _: KW_ONLY
    json_body: Any = None
    files: Any = None
    data: Mapping[str, Any] | None = None
    params: Mapping[str, Any] | None = None
    credential: Credential = "api_key"
    at_origin: bool = False
    model: str | None = None
    timeout: float | None = None
    #: repeating it may bill again (image generation, speech): see ``b3n._retry``.
    billed: bool = False
    #: the adaptive limiter every attempt takes a slot of (embeddings).
    gate: AdaptiveLimiter | None = None


@dataclass(frozen=True)
class PreparedCall:
    """One call, ready to send as many times as the retry policy allows."""

    method: str
    url: str
    content: bytes | None
    files: Any
    data: Mapping[str, Any] | None
    params: Mapping[str, Any] | None
    headers: Mapping[str, str]
    timeout: httpx.Timeout
    model: str | None
    #: repeating it may bill again (image generation, speech): see ``b3n._retry``.
    billed: bool
    #: ``time.monotonic()`` by which the whole call (retries included) must end (``total_timeout``).
    deadline: float | None = None

    def attempt_deadline(self) -> float | None:
        """When the attempt starting now must have its whole body: ``timeout`` from now, within ``deadline``."""
        read = self.timeout.read
        ends = [d for d in (self.deadline, None if read is None else time.monotonic() + read) if d is not None]
        return min(ends) if ends else None

    def request_timeout(self) -> httpx.Timeout:
        """httpx's timeouts for an attempt starting now: ``timeout``, shortened to what ``deadline`` leaves."""
        if self.deadline is None:
            return self.timeout
        left = max(0.001, self.deadline - time.monotonic())
        t = self.timeout
        return httpx.Timeout(
            connect=min(t.connect or left, left), read=min(t.read or left, left),
            write=min(t.write or left, left), pool=min(t.pool or left, left),
        )

    def stream_idle(self) -> float | None:
        """Seconds a stream may go without an event (comments and keep-alives do not count)."""
        return self.timeout.read
