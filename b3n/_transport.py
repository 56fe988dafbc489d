"""HTTP transport: pooled httpx clients, auth headers, one attempt of each kind of call, SSE, typed errors.

One pooled ``httpx.Client`` per (verify, proxy) in the process, and one
``httpx.AsyncClient`` per (event loop, verify, proxy), shared by every model instance
that uses that configuration. A client supplied by the user is used as given.

Example (against the bundled emulator):
    >>> from b3n.testing import Emulator
    >>> from b3n import resolve_config
    >>> with Emulator() as emu:
    ...     t = SyncTransport(resolve_config(api_key="sk-test", base_url=emu.base_url))
    ...     t.request("GET", "/models").json()["object"]
    'list'
"""

from __future__ import annotations

import asyncio
import atexit
import http.cookiejar
import itertools
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import KW_ONLY, dataclass
from typing import Any, Generic, Literal, TypeVar

from b3n._adaptive import AdaptiveLimiter
from b3n._config import B3nConfig
from b3n._errors import (
    B3nAPIStatusError,
    B3nConnectionError,
    B3nCrossOriginRedirectError,
    B3nError,
    B3nInvalidRequestError,
    B3nResponseError,
    B3nStreamInterruptedError,
    B3nStreamTimeoutError,
    B3nTimeoutError,
    StreamEndedEarly,
    error_from_response,
    error_from_stream_payload,
)
from b3n._lazy import httpx
from b3n._plans import arguments_of
from b3n._retry import (
    Attempts,
    RetryPolicy,
    afirst,
    aretrying,
    first,
    request_was_sent,
    retry_after_from_headers,
    retrying,
)
from b3n._sse import LineSplitter, SSEDecoder
from b3n._version import __version__

logger = logging.getLogger("b3n")
T = TypeVar("T")

Credential = Literal["api_key", "access_token", "none"]
USER_AGENT = f"b3n-integrations/{__version__}"
# Keep few idle connections: httpcore 1.0.x's pool does O(idle x connections) work on every request
# and hands one idle connection to many queued requests, so with ~30+ idle connections a burst of
# concurrent calls turns quadratic (200 concurrent calls: ~4 s of client CPU with 128 kept alive,
# ~0.4 s with 20; see tests/benchmarks and encode/httpcore#1035). New connections are cheap next to
# an LLM call, and 20 (httpx's default) covers steady concurrency.
_MAX_CONNECTIONS, _MAX_KEEPALIVE, _KEEPALIVE_EXPIRY = 512, 20, 30.0  # httpx.Limits, built with each pool


# ----------------------------------------------------------------------------- pools

_pool_lock = threading.Lock()
_sync_pools: dict[tuple[Any, ...], httpx.Client] = {}
_async_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def _pool_key(config: B3nConfig) -> tuple[Any, ...]:
    return (config.verify, config.proxy)


class _NoCookies(http.cookiejar.CookiePolicy):
    """The shared pools keep no cookies: they serve every key of the process (each transport has its own jar)."""

    netscape, rfc2965, hide_cookie2 = True, False, False

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


def _cookieless() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=_NoCookies())


def _limits() -> httpx.Limits:
    return httpx.Limits(
        max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_MAX_KEEPALIVE, keepalive_expiry=_KEEPALIVE_EXPIRY
    )


def close_shared_clients() -> None:
    """Close the process-wide sync pools (runs at interpreter exit; safe to call any time)."""
    with _pool_lock:
        clients = list(_sync_pools.values())
        _sync_pools.clear()
    for client in clients:
        client.close()


atexit.register(close_shared_clients)

#: pools a forked child inherited: kept referenced, never used nor closed (see ``_fresh_pools_after_fork``).
_inherited_pools: list[object] = []


def _fresh_pools_after_fork() -> None:
    """In a forked child (gunicorn ``--preload``, multiprocessing's fork): new pools and a new lock.

    The inherited clients share their sockets with the parent, so using them would cross the two
    processes' answers. They are not closed either: closing takes httpcore's pool lock, which a
    parent thread may have held at the fork, and would tear down TLS state the parent still uses.
    The old lock may have been inherited held, so it is replaced, never acquired.
    """
    global _pool_lock, _sync_pools, _async_pools
    _inherited_pools.append((_sync_pools, _async_pools))
    _pool_lock = threading.Lock()
    _sync_pools = {}
    _async_pools = weakref.WeakKeyDictionary()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_pools_after_fork)


def _pool_settings(config: B3nConfig) -> dict[str, Any]:
    """How a shared pool (blocking or asyncio) is built for ``config``."""
    return {"verify": config.verify, "proxy": config.proxy, "limits": _limits(), "follow_redirects": True,
            "trust_env": True, "cookies": _cookieless()}


def shared_sync_client(config: B3nConfig) -> httpx.Client:
    key = _pool_key(config)
    client = _sync_pools.get(key)
    if client is None or client.is_closed:
        with _pool_lock:
            client = _sync_pools.get(key)
            if client is None or client.is_closed:
                client = _sync_pools[key] = httpx.Client(**_pool_settings(config))
    return client


def _forget_closed_loops() -> None:
    """Drop the pools of event loops that were closed (e.g. by each ``asyncio.run``).

    Their sockets hold the loop, so the weak keys alone never let go: without this, every
    ``asyncio.run(...)`` that made a call would keep its connections open for the life of the
    process. Dropped pools are freed at once and their sockets closed.
    """
    for loop in [loop for loop in list(_async_pools.keys()) if loop.is_closed()]:
        _async_pools.pop(loop, None)


def shared_async_client(config: B3nConfig) -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    per_loop = _async_pools.get(loop)
    if per_loop is None:
        with _pool_lock:  # threads with their own loops register concurrently
            _forget_closed_loops()
            per_loop = _async_pools.setdefault(loop, {})
    key = _pool_key(config)
    client = per_loop.get(key)
    if client is None or client.is_closed:
        client = per_loop[key] = httpx.AsyncClient(**_pool_settings(config))
    return client


# ----------------------------------------------------------------------------- shared pieces


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON (``ensure_ascii=False``); refuse values JSON cannot carry."""
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise B3nInvalidRequestError(
            f"The request body is not JSON-serialisable: {exc}. Pass plain str/int/float/bool/list/dict values."
        ) from None


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
        return json.loads(response.content)
    except ValueError:
        raise B3nResponseError(
            f"B3n answered {response.status_code} to {what} with a body that is not JSON "
            f"({response.headers.get('content-type', '?')}): {response.content[:200]!r}. {hint}"
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


class TransportBase:
    """What the blocking and the asyncio transport share: URLs, headers, timeouts, error mapping, logs.

    The retry loop itself is ``b3n._retry.retrying`` / ``aretrying``; the transports only say what
    one attempt is.
    """

    def __init__(self, config: B3nConfig) -> None:
        self.config = config
        self.policy = RetryPolicy(
            max_retries=config.max_retries,
            max_retry_after=config.max_retry_after,
            retry_billed=config.retry_billed,
        )
        self._headers: dict[Credential, dict[str, str]] = {}
        #: this configuration's cookies (the pools are shared across keys, so they keep none themselves).
        self.cookies = httpx.Cookies()

    def __getstate__(self) -> dict[str, Any]:
        # The header cache holds the credentials; pickles never do (the config re-reads them on load).
        return {**self.__dict__, "_headers": {}}

    def url(self, path: str, *, at_origin: bool = False) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return (self.config.relay_root if at_origin else self.config.base_url) + path

    def headers(self, credential: Credential) -> dict[str, str]:
        cached = self._headers.get(credential)
        if cached is not None:
            return cached
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if credential == "api_key":
            headers["Authorization"] = "Bearer " + self.config.require_api_key().get_secret_value()
        elif credential == "access_token":
            headers["Authorization"] = self.config.require_access_token().get_secret_value()
            if self.config.user_id:
                headers["New-Api-User"] = self.config.user_id
        headers.update(dict(self.config.default_headers))
        self._headers[credential] = headers
        return headers

    def timeout(self, *, stream: bool = False, override: float | None = None) -> httpx.Timeout:
        total = override if override is not None else self.config.timeout
        read = (self.config.stream_idle_timeout or total) if stream else total
        connect = min(10.0, total) if total is not None else 10.0
        return httpx.Timeout(connect=connect, read=read, write=total, pool=total)

    def prepare(self, options: CallOptions, *, accept: str | None = None) -> PreparedCall:
        """Everything every attempt of one call sends (built once; the body is encoded once)."""
        headers = self.headers(options.credential)
        content = encode_json(options.json_body) if options.json_body is not None else None
        if content is not None:
            headers = {**headers, "Content-Type": "application/json"}
        if accept is not None:
            headers = {**headers, "Accept": accept}
        return PreparedCall(
            method=options.method, url=self.url(options.path, at_origin=options.at_origin), content=content,
            files=options.files, data=options.data, params=options.params, headers=headers,
            timeout=self.timeout(stream=accept == SSE, override=options.timeout), model=options.model,
            billed=options.billed,
            deadline=None if self.config.total_timeout is None else time.monotonic() + self.config.total_timeout,
        )

    @staticmethod
    def same_origin_redirect(response: httpx.Response, call: PreparedCall) -> httpx.Request | None:
        """The request a redirect asks for when it stays on the relay's origin; None if not a redirect.

        A redirect to another origin raises ``B3nCrossOriginRedirectError``: following it would send
        ``New-Api-User``, every ``default_headers`` value and (307/308) the body to a host nobody chose.
        """
        follow = response.next_request if response.is_redirect else None
        if follow is None:
            return None
        here, there = httpx.URL(call.url), follow.url
        if (here.scheme, here.host, here.port) != (there.scheme, there.host, there.port):
            raise B3nCrossOriginRedirectError(
                f"B3n at {_origin(here)} answered {response.status_code} redirecting {call.method} {here.path} to "
                f"another origin, {_origin(there)}. Not followed: it would carry your headers (and the request "
                "body) there. If the relay really moved, set base_url to the new address.",
                status_code=response.status_code, target_origin=_origin(there),
            )
        return follow

    def status_error(self, response: httpx.Response, body: bytes, model: str | None) -> B3nAPIStatusError:
        error = error_from_response(response.status_code, body, response.headers, model=model)
        error.retry_after = retry_after_from_headers(response.headers)
        return error

    @staticmethod
    def map_exception(exc: Exception, url: str) -> B3nError:
        if isinstance(exc, B3nError):
            return exc
        if isinstance(exc, httpx.TimeoutException):
            kind = type(exc).__name__
            error: B3nError = B3nTimeoutError(
                f"B3n did not answer in time ({kind}) calling {_path(url)}. Raise timeout=..., or check the network."
            )
        elif isinstance(exc, httpx.TransportError) and request_was_sent(exc):
            error = B3nConnectionError(
                f"The connection to B3n at {_host(url)} broke before the response was complete "
                f"({type(exc).__name__}: {exc}). Try again later; if it keeps happening, check your network "
                "and proxy (something may be cutting long requests)."
            )
        elif isinstance(exc, httpx.TransportError):
            error = B3nConnectionError(
                f"Could not talk to B3n at {_host(url)} ({type(exc).__name__}: {exc}). "
                "Check base_url, your network and proxy settings."
            )
        else:
            return B3nError(f"Unexpected error calling {_path(url)}: {exc!r}")
        error.request_sent = request_was_sent(exc)
        return error

    def log(self, call: PreparedCall, outcome: int | str, started: float, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms (attempt %d)",
                call.method,
                _path(call.url),
                outcome,
                (time.perf_counter() - started) * 1000,
                attempt + 1,
            )


SSE = "text/event-stream"
#: the most of an error (or unexpected) body read: enough for any relay message, never a flood.
MAX_ERROR_BODY_BYTES = 64 * 1024
#: the largest whole body read into memory (embeddings of 2048 texts at 3072 floats fit; a flood does not).
MAX_BODY_BYTES = 256 * 1024 * 1024
#: same-origin redirects followed per attempt (httpx's own default is 20).
MAX_REDIRECTS = 20


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


def _failure_label(response: httpx.Response | None, exc: Exception) -> int | str:
    """What a failed attempt logs: the error status, else the exception (a 2xx whose body broke)."""
    if response is not None and response.status_code >= 400:
        return response.status_code
    return type(exc).__name__


def _too_slow(url: str) -> B3nTimeoutError:
    return B3nTimeoutError(
        f"B3n did not finish answering {_path(url)} within timeout (the body kept trickling in). "
        "Raise timeout=..., or check the network."
    )


def _too_big(url: str, limit: int) -> B3nResponseError:
    return B3nResponseError(
        f"B3n's answer to {_path(url)} is larger than {limit // (1024 * 1024)} MB; stopped reading it (memory stays "
        "bounded). Ask for less (smaller batches), or check what is answering at base_url."
    )


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


def _read_capped(
    response: httpx.Response, limit: int, *, deadline: float | None = None, url: str = "", whole: bool = False
) -> bytes:
    """At most ``limit`` bytes of the body (``whole``: the whole body, or ``B3nResponseError`` past the limit)."""
    body = _CappedBody(limit, deadline, url, whole)
    for chunk in response.iter_bytes():
        if body.full(chunk):
            break
    return body.content()


async def _aread_capped(
    response: httpx.Response, limit: int, *, deadline: float | None = None, url: str = "", whole: bool = False
) -> bytes:
    """asyncio twin of :func:`_read_capped`."""
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
                f"The B3n stream from {_path(self._url)} sent no event for {self._idle:g}s (keep-alive comments do "
                "not count). Raise stream_idle_timeout=..., or try again."
            )
        if self._deadline is not None and now > self._deadline:
            raise B3nTimeoutError(f"The B3n stream from {_path(self._url)} ran past total_timeout.")


class _EventReader:
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


def _with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    """A finished response holding ``body`` (already decoded), free of httpx's response <-> stream cycle.

    Otherwise every response (body included) lives until a full garbage collection: in a
    10,000-text embedding job that kept ~45 MB of 4 MB bodies alive (see tests/benchmarks).
    """
    headers = [(k, v) for k, v in response.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request,
                          extensions=response.extensions)


def _path(url: str) -> str:
    return httpx.URL(url).path


def _origin(url: httpx.URL) -> str:
    """``scheme://host[:port]`` (never userinfo, path or query)."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _host(url: str) -> str:
    return httpx.URL(url).host


def _parse_event(data: str, model: str | None) -> dict[str, Any] | None:
    try:
        payload = json.loads(data)
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
            f"The B3n stream from {_path(url)} broke after it started: {exc.message} Not retried (that could "
            "duplicate output); the partial output is on `.partial`.",
            status_code=exc.status_code, error_type=exc.error_type, code=exc.code, request_id=exc.request_id,
            body=exc.body,
        )
    if isinstance(exc, httpx.TimeoutException):
        return B3nStreamTimeoutError(
            f"The B3n stream from {_path(url)} went silent for longer than the idle timeout after it started. "
            "Not retried (that could duplicate output); the partial output is on `.partial`."
        )
    return B3nStreamInterruptedError(
        f"The B3n stream from {_path(url)} broke after it started ({type(exc).__name__}). "
        "Not retried (that could duplicate output); the partial output is on `.partial`."
    )


def _not_a_stream(url: str, response: httpx.Response, body: bytes) -> B3nResponseError:
    return B3nResponseError(
        f"Expected a stream from {_path(url)} but B3n answered {response.headers.get('content-type')}: "
        f"{body[:200]!r}. Not retried (the call may have been billed); try again, or call without streaming."
    )


def _is_event_stream(response: httpx.Response) -> bool:
    return SSE in str(response.headers.get("content-type", SSE))


def _is_document(response: httpx.Response) -> bool:
    """A JSON or HTML answer where a binary body (audio) was expected."""
    return str(response.headers.get("content-type", "")).startswith(("application/json", "text/html"))


def _not_binary(what: str, response: httpx.Response, body: bytes) -> B3nResponseError:
    return B3nResponseError(
        f"B3n answered {what} with {response.headers.get('content-type')} instead of audio: {body[:200]!r}. "
        "Try again."
    )


def _ended_early(url: str) -> StreamEndedEarly:
    return StreamEndedEarly(
        f"The B3n stream from {_path(url)} ended without [DONE]. The partial output is on `.partial`."
    )


CutHandler = Callable[[Exception, B3nError], B3nError]
#: called with the response headers of an event stream when it opens.
HeadersSeen = Callable[[Mapping[str, str]], None]


# ----------------------------------------------------------------------------- the calls, once for both twins

ClientT = TypeVar("ClientT", "httpx.Client", "httpx.AsyncClient")
ResponseT = TypeVar("ResponseT")
EventsT = TypeVar("EventsT")
ChunksT = TypeVar("ChunksT")


class _Calls(TransportBase, Generic[ClientT, ResponseT, EventsT, ChunksT]):
    """The three ways to call, declared once; each twin says how one attempt does its I/O.

    Each is one retry loop (``b3n._retry.retrying`` / ``aretrying``) around one kind of attempt:
    :meth:`request` (the whole body, read inside the attempt), :meth:`iter_sse` (SSE events) and
    :meth:`iter_bytes` (a binary body in chunks); streams are retried until their first item only.
    """

    @arguments_of(CallOptions)
    def request(self, options: CallOptions) -> ResponseT:
        """Send a request with retries; return the (fully read) successful response (asyncio: awaitable).

        A body cut off or stalled before it was complete is retried like a failure before the
        response: nothing has reached the caller yet, so nothing can be duplicated. With ``gate``
        every attempt waits for a slot of that adaptive limiter and tells it about a 429.
        """
        call = self.prepare(options)
        gate = options.gate
        attempt = self._whole_body if gate is None else self._guarded(gate, self._whole_body)
        return self._first(self._retrying(call, attempt))

    def iter_sse(
        self, path: str, payload: Mapping[str, Any], *, model: str | None = None, on_open: HeadersSeen | None = None
    ) -> EventsT:
        """POST ``payload`` and yield each SSE ``data`` object until ``[DONE]``.

        Retries (per policy) only until the first event has been yielded. ``on_open`` is called with the
        headers of each attempt's event stream, before its first event (e.g. to read the request id).
        """
        call = self.prepare(CallOptions("POST", path, json_body=payload, model=model), accept=SSE)
        events: EventsT = self._retrying(call, lambda c, attempt: self._sse_events(c, attempt, on_open))
        return events

    def iter_bytes(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        model: str | None = None,
        billed: bool = False,
        what: str = "the request",
        interrupted: CutHandler | None = None,
    ) -> ChunksT:
        """Yield a binary body in chunks as it arrives; retried (per policy) until the first chunk.

        A JSON or HTML answer is a ``B3nResponseError``; ``interrupted`` words the error of a body that
        broke after its first chunk.
        """
        call = self.prepare(CallOptions(method, path, json_body=json_body, model=model, billed=billed))
        chunks: ChunksT = self._retrying(call, lambda c, attempt: self._binary_chunks(c, attempt, what), interrupted)
        return chunks

    def _retrying(self, call: PreparedCall, attempt: Callable[[PreparedCall, int], Any],
                  interrupted: CutHandler | None = None) -> Any:
        numbers = itertools.count()
        attempts = Attempts(
            self.policy,
            to_error=lambda exc: self.map_exception(exc, call.url),
            interrupted=interrupted or (lambda exc, error: stream_cut(exc, error, call.url)),
            billed=call.billed,
            deadline=call.deadline,
        )
        return self._retry_loop(attempts, lambda: attempt(call, next(numbers)))

    def _build(self, client: httpx.Client | httpx.AsyncClient, call: PreparedCall) -> httpx.Request:
        return client.build_request(
            call.method, call.url, content=call.content, files=call.files, data=call.data, params=call.params,
            headers=call.headers, timeout=call.request_timeout(), cookies=self.cookies,
        )

    def _redirect(self, response: httpx.Response, call: PreparedCall, hops: int) -> httpx.Request | None:
        """Keep the answer's cookies; the same-origin redirect to follow (None: this is the answer)."""
        self.cookies.extract_cookies(response)
        follow = self.same_origin_redirect(response, call) if hops < MAX_REDIRECTS else None
        if follow is not None:
            follow.headers.pop("Cookie", None)
            self.cookies.set_cookie_header(follow)
        return follow

    def __init__(self, config: B3nConfig, client: ClientT | None = None) -> None:
        super().__init__(config)
        self._client: ClientT | None = client

    @property
    def client(self) -> ClientT:
        """The httpx client given at construction, else the process's shared pool for this configuration."""
        return self._client if self._client is not None else self._shared_client(self.config)

    # what each twin provides (the I/O)
    _retry_loop: Callable[..., Any]
    _first: Callable[[Any], ResponseT]
    _shared_client: Callable[[B3nConfig], ClientT]
    _guarded: Callable[[AdaptiveLimiter, Callable[..., Any]], Callable[..., Any]]

    def _whole_body(self, call: PreparedCall, attempt: int) -> Any:
        raise NotImplementedError

    def _sse_events(self, call: PreparedCall, attempt: int, on_open: HeadersSeen | None) -> Any:
        raise NotImplementedError

    def _binary_chunks(self, call: PreparedCall, attempt: int, what: str) -> Any:
        raise NotImplementedError


# ----------------------------------------------------------------------------- sync


# the httpx types quoted: httpx is imported on first use (b3n._lazy)
class SyncTransport(_Calls["httpx.Client", "httpx.Response", Iterator[dict[str, Any]], Iterator[bytes]]):
    """Blocking transport. Thread-safe (httpx.Client is). The calls are those of :class:`_Calls`."""

    _retry_loop = staticmethod(retrying)
    _first = staticmethod(first)
    _shared_client = staticmethod(shared_sync_client)
    _guarded = staticmethod(AdaptiveLimiter.guard)

    @contextmanager
    def _open(self, call: PreparedCall, attempt: int) -> Iterator[httpx.Response]:
        """Send one attempt; yield the response once its status is 2xx (an error status raises)."""
        started = time.perf_counter()
        response: httpx.Response | None = None
        try:
            client = self.client
            response = client.send(self._build(client, call), stream=True, follow_redirects=False)
            hops = 0
            while (follow := self._redirect(response, call, hops)) is not None:
                response.close()
                response = client.send(follow, stream=True, follow_redirects=False)
                hops += 1
            if response.status_code >= 400 or response.is_redirect:
                raise self.status_error(response, _read_capped(response, MAX_ERROR_BODY_BYTES), call.model)
            self.log(call, response.status_code, started, attempt)
            yield response
        except Exception as exc:
            self.log(call, _failure_label(response, exc), started, attempt)
            raise
        finally:
            if response is not None:
                response.close()

    def _whole_body(self, call: PreparedCall, attempt: int) -> Iterator[httpx.Response]:
        deadline = call.attempt_deadline()
        with self._open(call, attempt) as response:
            body = _read_capped(response, MAX_BODY_BYTES, deadline=deadline, url=call.url, whole=True)
        yield _with_body(response, body)

    def _sse_events(self, call: PreparedCall, attempt: int, on_open: HeadersSeen | None) -> Iterator[dict[str, Any]]:
        with self._open(call, attempt) as response:
            if not _is_event_stream(response):
                raise _not_a_stream(call.url, response, _read_capped(response, MAX_ERROR_BODY_BYTES))
            reader = _EventReader(call, response, on_open)
            for chunk in response.iter_bytes():
                yield from reader.feed(chunk)
                if reader.done:
                    return
            yield from reader.end(call.url)

    def _binary_chunks(self, call: PreparedCall, attempt: int, what: str) -> Iterator[bytes]:
        with self._open(call, attempt) as response:
            if _is_document(response):
                raise _not_binary(what, response, _read_capped(response, MAX_ERROR_BODY_BYTES))
            yield from response.iter_bytes()


# ----------------------------------------------------------------------------- async


class AsyncTransport(
    _Calls["httpx.AsyncClient", Awaitable["httpx.Response"], AsyncIterator[dict[str, Any]], AsyncIterator[bytes]]
):
    """asyncio transport; real async I/O (no thread offloading). The twin of :class:`SyncTransport`."""

    _retry_loop = staticmethod(aretrying)
    _first = staticmethod(afirst)
    _shared_client = staticmethod(shared_async_client)
    _guarded = staticmethod(AdaptiveLimiter.aguard)

    @asynccontextmanager
    async def _open(self, call: PreparedCall, attempt: int) -> AsyncIterator[httpx.Response]:
        started = time.perf_counter()
        response: httpx.Response | None = None
        try:
            client = self.client
            response = await client.send(self._build(client, call), stream=True, follow_redirects=False)
            hops = 0
            while (follow := self._redirect(response, call, hops)) is not None:
                await response.aclose()
                response = await client.send(follow, stream=True, follow_redirects=False)
                hops += 1
            if response.status_code >= 400 or response.is_redirect:
                raise self.status_error(response, await _aread_capped(response, MAX_ERROR_BODY_BYTES), call.model)
            self.log(call, response.status_code, started, attempt)
            yield response
        except Exception as exc:
            self.log(call, _failure_label(response, exc), started, attempt)
            raise
        finally:
            if response is not None:
                await response.aclose()

    async def _whole_body(self, call: PreparedCall, attempt: int) -> AsyncIterator[httpx.Response]:
        deadline = call.attempt_deadline()
        async with self._open(call, attempt) as response:
            body = await _aread_capped(response, MAX_BODY_BYTES, deadline=deadline, url=call.url, whole=True)
        yield _with_body(response, body)

    async def _sse_events(
        self, call: PreparedCall, attempt: int, on_open: HeadersSeen | None
    ) -> AsyncIterator[dict[str, Any]]:
        async with self._open(call, attempt) as response:
            if not _is_event_stream(response):
                raise _not_a_stream(call.url, response, await _aread_capped(response, MAX_ERROR_BODY_BYTES))
            reader = _EventReader(call, response, on_open)
            async for chunk in response.aiter_bytes():
                for event in reader.feed(chunk):
                    yield event
                if reader.done:
                    return
            for event in reader.end(call.url):
                yield event

    async def _binary_chunks(self, call: PreparedCall, attempt: int, what: str) -> AsyncIterator[bytes]:
        async with self._open(call, attempt) as response:
            if _is_document(response):
                raise _not_binary(what, response, await _aread_capped(response, MAX_ERROR_BODY_BYTES))
            async for chunk in response.aiter_bytes():
                yield chunk
