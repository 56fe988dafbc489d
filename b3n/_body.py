"""Reading an answer: capped bodies, SSE events with their stream clock, and the checks on what came back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from b3n._errors import (
    B3nError,
    B3nResponseError,
    B3nStreamInterruptedError,
    B3nStreamTimeoutError,
    B3nTimeoutError,
    StreamEndedEarly,
)
from b3n._json import loads
from b3n._lazy import httpx
from b3n._relay_errors import error_from_stream_payload
from b3n._sse import LineSplitter, SSEDecoder

if TYPE_CHECKING:
    from b3n._prepared import PreparedCall

logger = logging.getLogger("b3n")

SSE = "text/event-stream"
#: the most of an error (or unexpected) body read: enough for any relay message, never a flood.
MAX_ERROR_BODY_BYTES = 64 * 1024
#: the largest whole body read into memory (embeddings of 2048 texts at 3072 floats fit; a flood does not).
MAX_BODY_BYTES = 256 * 1024 * 1024
#: the largest binary body streamed (speech audio), counted after decompression: 4,096 characters spoken as WAV
#: at speed 0.25 are about 55 MB.
MAX_BINARY_BYTES = 64 * 1024 * 1024
#: same-origin redirects followed per attempt (httpx's own default is 20).


def json_or_error(
    response: httpx.Response, what: str, *, hint: str = "Not retried (the call may have been billed); try again."
) -> Any:
    """The JSON body of a successful response, or a ``B3nResponseError`` that shows what came instead.

    Example:
        >>> import httpx
        >>> json_or_error(httpx.Response(200, content=b'{"ok": 1}'), "the request")
        {'ok': 1}
        >>> json_or_error(httpx.Response(200, content=b"<html>"), "the image request")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        b3n._errors.B3nResponseError: B3n answered 200 to the image request with a body that is not JSON ...
    """
    try:
        return loads(response.content)
    except ValueError as exc:
        raise B3nResponseError(
            f"B3n answered {response.status_code} to {what} with a body that is not JSON "
            f"({response.headers.get('content-type', '?')}; {exc}): {response.content[:200]!r}. {hint}"
        ) from None


def _too_slow(url: str) -> B3nTimeoutError:
    return B3nTimeoutError(
        f"B3n did not finish answering {url_path(url)} within timeout (the body kept trickling in). "
        "Raise timeout=..., or check the network."
    )


def _too_big(url: str, limit: int) -> B3nResponseError:
    return B3nResponseError(
        f"B3n's answer to {url_path(url)} is larger than {limit // (1024 * 1024)} MB; stopped reading it (memory stays "
        "bounded). Ask for less (smaller batches), or check what is answering at base_url."
    )


class ChunkBudget:
    """The chunks of a streamed binary body, within ``limit`` bytes (decompressed) and the call's ``total_timeout``.

    Example:
        >>> budget = ChunkBudget(limit=4, deadline=None, url="https://relay/v1/audio/speech")
        >>> budget.take(b"abc")
        b'abc'
        >>> budget.take(b"de")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        b3n._errors.B3nResponseError: B3n's answer to /v1/audio/speech is larger than 4 bytes ...
    """

    __slots__ = ("deadline", "limit", "size", "url")

    def __init__(self, limit: int, deadline: float | None, url: str) -> None:
        self.limit, self.deadline, self.url, self.size = limit, deadline, url, 0

    def take(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if self.size > self.limit:
            raise B3nResponseError(
                f"B3n's answer to {url_path(self.url)} is larger than {self.limit} bytes (after decompression); "
                "stopped reading it (disk and memory stay bounded). Check what is answering at base_url."
            )
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise B3nTimeoutError(
                f"B3n's answer to {url_path(self.url)} was still arriving when total_timeout ran out "
                f"({self.size} bytes so far). Raise total_timeout=..., or try again."
            )
        return chunk


class _CappedBody:
    """A body read chunk by chunk: at most ``limit`` bytes kept (``whole``: more is an error), within ``deadline``.

    ``deadline`` bounds the whole read, not each chunk: a server trickling bytes cannot hold it open.
    """

    __slots__ = ("buffer", "deadline", "limit", "url", "whole")

    def __init__(self, limit: int, deadline: float | None, url: str, whole: bool) -> None:
        self.buffer = bytearray()
        self.limit, self.deadline, self.url, self.whole = limit, deadline, url, whole

    def full(self, chunk: bytes) -> bool:
        """Take ``chunk``; True once enough was read (only when not ``whole``)."""
        self.buffer += chunk
        if len(self.buffer) >= self.limit:
            if self.whole and len(self.buffer) > self.limit:
                raise _too_big(self.url, self.limit)
            if not self.whole:
                return True
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _too_slow(self.url)
        return False

    def content(self) -> bytes:
        buffer, limit = self.buffer, self.limit
        return bytes(buffer) if len(buffer) <= limit else bytes(memoryview(buffer)[:limit])


def read_capped(
    response: httpx.Response, limit: int, *, deadline: float | None = None, url: str = "", whole: bool = False
) -> bytes:
    """At most ``limit`` bytes of the body (``whole``: the whole body, or ``B3nResponseError`` past the limit)."""
    body = _CappedBody(limit, deadline, url, whole)
    for chunk in response.iter_bytes():
        if body.full(chunk):
            break
    return body.content()


async def aread_capped(
    response: httpx.Response, limit: int, *, deadline: float | None = None, url: str = "", whole: bool = False
) -> bytes:
    """asyncio twin of :func:`read_capped`."""
    body = _CappedBody(limit, deadline, url, whole)
    async for chunk in response.aiter_bytes():
        if body.full(chunk):
            break
    return body.content()


class _StreamClock:
    """The idle timeout between SSE *events* (comments / keep-alives do not reset it) and ``total_timeout``."""

    __slots__ = ("_deadline", "_idle", "_last", "_url")

    def __init__(self, call: PreparedCall) -> None:
        self._idle = call.stream_idle()
        self._deadline = call.deadline
        self._url = call.url
        self._last = time.monotonic()

    def event(self) -> None:
        self.check()
        self._last = time.monotonic()

    def check(self) -> None:
        now = time.monotonic()
        if self._idle is not None and now - self._last > self._idle:
            raise B3nTimeoutError(
                f"The B3n stream from {url_path(self._url)} sent no event for {self._idle:g}s (keep-alive comments do "
                "not count). Raise stream_idle_timeout=..., or try again."
            )
        if self._deadline is not None and now > self._deadline:
            raise B3nTimeoutError(f"The B3n stream from {url_path(self._url)} ran past total_timeout.")


class EventReader:
    """One attempt's SSE body, chunk by chunk: the parsed events, ``[DONE]``, and the stream clock."""

    __slots__ = ("_clock", "_decoder", "_lines", "done")

    def __init__(self, call: PreparedCall, response: httpx.Response, on_open: HeadersSeen | None) -> None:
        if on_open is not None:
            on_open(response.headers)
        self._clock = _StreamClock(call)
        self._decoder = SSEDecoder(call.model)
        self._lines = LineSplitter()
        self.done = False

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """The events ``chunk`` completes (none after ``[DONE]``, which sets ``done``)."""
        return self._events(self._lines.feed(chunk))

    def end(self, url: str) -> list[dict[str, Any]]:
        """The events the body's last line completes; ``StreamEndedEarly`` if ``[DONE]`` never came."""
        events = self._events(self._lines.close())
        if not self.done:
            raise _ended_early(url)
        return events

    def _events(self, lines: list[str]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for line in lines:
            data = self._decoder.feed(line)
            if data is None:
                self._clock.check()
                continue
            self._clock.event()
            if data == "[DONE]":
                self.done = True
                return events
            if data:
                parsed = _parse_event(data, self._decoder.model)
                if parsed is not None:
                    events.append(parsed)
        return events


def with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    """A finished response holding ``body`` (already decoded), free of httpx's response <-> stream cycle.

    Otherwise every response (body included) lives until a full garbage collection: in a
    10,000-text embedding job that kept ~45 MB of 4 MB bodies alive (see tests/benchmarks).
    """
    headers = [(k, v) for k, v in response.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request,
                          extensions=response.extensions)


def url_path(url: str) -> str:
    return httpx.URL(url).path


def _parse_event(data: str, model: str | None) -> dict[str, Any] | None:
    try:
        payload = loads(data)
    except ValueError:
        logger.warning("Skipped a malformed stream chunk from B3n: %r", data[:120])
        return None
    if not isinstance(payload, dict):
        logger.warning("Skipped a non-object stream chunk from B3n: %r", data[:120])
        return None
    if "error" in payload and not payload.get("choices"):
        raise error_from_stream_payload(payload, model=model)
    return payload


def stream_cut(exc: Exception, error: B3nError, url: str) -> B3nError:
    """What a stream that broke after delivering content raises (it is never retried)."""
    if isinstance(error, B3nStreamInterruptedError):
        return error
    if isinstance(exc, B3nTimeoutError):  # our own idle / total timeout, raised between events
        return B3nStreamTimeoutError(
            f"{exc.message} Not retried after content (that could duplicate output); the partial output is on "
            "`.partial`."
        )
    if isinstance(exc, B3nError):  # the relay reported an error mid-stream: keep its message and request id
        return B3nStreamInterruptedError(
            f"The B3n stream from {url_path(url)} broke after it started: {exc.message} Not retried (that could "
            "duplicate output); the partial output is on `.partial`.",
            status_code=exc.status_code, error_type=exc.error_type, code=exc.code, request_id=exc.request_id,
            body=exc.body,
        )
    if isinstance(exc, httpx.TimeoutException):
        return B3nStreamTimeoutError(
            f"The B3n stream from {url_path(url)} went silent for longer than the idle timeout after it started. "
            "Not retried (that could duplicate output); the partial output is on `.partial`."
        )
    return B3nStreamInterruptedError(
        f"The B3n stream from {url_path(url)} broke after it started ({type(exc).__name__}). "
        "Not retried (that could duplicate output); the partial output is on `.partial`."
    )


def not_a_stream(url: str, response: httpx.Response, body: bytes) -> B3nResponseError:
    return B3nResponseError(
        f"Expected a stream from {url_path(url)} but B3n answered {response.headers.get('content-type')}: "
        f"{body[:200]!r}. Not retried (the call may have been billed); try again, or call without streaming."
    )


def is_event_stream(response: httpx.Response) -> bool:
    return SSE in str(response.headers.get("content-type", SSE))


def is_document(response: httpx.Response) -> bool:
    """A JSON or HTML answer where a binary body (audio) was expected."""
    return str(response.headers.get("content-type", "")).startswith(("application/json", "text/html"))


def not_binary(what: str, response: httpx.Response, body: bytes) -> B3nResponseError:
    return B3nResponseError(
        f"B3n answered {what} with {response.headers.get('content-type')} instead of audio: {body[:200]!r}. "
        "Try again."
    )


def _ended_early(url: str) -> StreamEndedEarly:
    return StreamEndedEarly(
        f"The B3n stream from {url_path(url)} ended without [DONE]. The partial output is on `.partial`."
    )


CutHandler = Callable[[Exception, B3nError], B3nError]
#: called with the response headers of an event stream when it opens.
HeadersSeen = Callable[[Mapping[str, str]], None]
