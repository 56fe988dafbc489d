"""The calls: a public call -> ``prepare`` -> the retry loop -> one attempt on the wire, for both twins.

The pools are in :mod:`b3n._pools`, what a call sends in :mod:`b3n._prepared`, and how an answer is read
in :mod:`b3n._body`.

Example (against the bundled emulator):
    >>> from b3n.testing import Emulator
    >>> from b3n import resolve_config
    >>> with Emulator() as emu:
    ...     t = SyncTransport(resolve_config(api_key="sk-test", base_url=emu.base_url))
    ...     t.request("GET", "/models").json()["object"]
    'list'
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from b3n._adaptive import AdaptiveLimiter
from b3n._body import (
    MAX_BINARY_BYTES,
    MAX_BODY_BYTES,
    MAX_ERROR_BODY_BYTES,
    SSE,
    ChunkBudget,
    CutHandler,
    EventReader,
    HeadersSeen,
    aread_capped,
    is_document,
    is_event_stream,
    not_a_stream,
    not_binary,
    read_capped,
    stream_cut,
    url_path,
    with_body,
)
from b3n._config import B3nConfig
from b3n._errors import (
    B3nAPIStatusError,
    B3nConnectionError,
    B3nCrossOriginRedirectError,
    B3nError,
    B3nTimeoutError,
)
from b3n._lazy import httpx
from b3n._pools import shared_async_client, shared_sync_client
from b3n._prepared import ANTHROPIC_VERSION, USER_AGENT, CallOptions, Credential, PreparedCall, encode_json
from b3n._relay_errors import error_from_response
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
from b3n._signatures import arguments_of

logger = logging.getLogger("b3n")

#: same-origin redirects followed per attempt (httpx's own default is 20).
MAX_REDIRECTS = 20


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
        elif credential == "anthropic_key":
            headers["x-api-key"] = self.config.require_api_key().get_secret_value()
            headers["anthropic-version"] = ANTHROPIC_VERSION
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
                f"B3n did not answer in time ({kind}) calling {url_path(url)}. Raise timeout=..., or check the network."
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
            return B3nError(f"Unexpected error calling {url_path(url)}: {exc!r}")
        error.request_sent = request_was_sent(exc)
        return error

    def log(self, call: PreparedCall, outcome: int | str, started: float, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms (attempt %d)",
                call.method,
                url_path(call.url),
                outcome,
                (time.perf_counter() - started) * 1000,
                attempt + 1,
            )


def _failure_label(response: httpx.Response | None, exc: Exception) -> int | str:
    """What a failed attempt logs: the error status, else the exception (a 2xx whose body broke)."""
    if response is not None and response.status_code >= 400:
        return response.status_code
    return type(exc).__name__


def _origin(url: httpx.URL) -> str:
    """``scheme://host[:port]`` (never userinfo, path or query)."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _host(url: str) -> str:
    return httpx.URL(url).host


@dataclass(frozen=True)
class Runtime:
    """What makes a twin blocking or asyncio: the four functions its calls run with.

    Everything else the calls do (preparing, redirects, capped reads, the retry decision) is shared; each twin
    also writes its own attempt iterators (``with`` vs ``async with``).
    """

    #: the retry loop around one attempt: ``b3n._retry.retrying`` / ``aretrying``
    retry_loop: Callable[[Attempts, Callable[[], Any]], Any]
    #: the one item of a whole-body attempt: ``b3n._retry.first`` / ``afirst``
    first: Callable[[Any], Any]
    #: the process's shared httpx client (pool) for a configuration
    shared_client: Callable[[B3nConfig], Any]
    #: an attempt that holds a limiter slot while it runs: ``AdaptiveLimiter.guard`` / ``aguard``
    guard: Callable[[AdaptiveLimiter, Callable[..., Any], Callable[..., float | None], float], Any]


BLOCKING = Runtime(retrying, first, shared_sync_client, AdaptiveLimiter.guard)
ASYNCIO = Runtime(aretrying, afirst, shared_async_client, AdaptiveLimiter.aguard)


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
        return self.send(options)

    def send(self, options: CallOptions) -> ResponseT:
        """:meth:`request` with its arguments already made into ``CallOptions`` (what a plan's ``http`` asks)."""
        call = self.prepare(options)
        gate = options.gate
        # the wait for a slot counts against the attempt's timeout and the call's total_timeout
        attempt = self._whole_body if gate is None else self.runtime.guard(
            gate, self._whole_body, _slot_deadline, self.policy.max_retry_after)
        response: ResponseT = self.runtime.first(self._retrying(call, attempt))
        return response

    def iter_sse(
        self, path: str, payload: Mapping[str, Any], *, model: str | None = None, on_open: HeadersSeen | None = None,
        credential: Credential = "api_key",
    ) -> EventsT:
        """POST ``payload`` and yield each SSE ``data`` object until ``[DONE]``.

        Retries (per policy) only until the first event has been yielded. ``on_open`` is called with the
        headers of each attempt's event stream, before its first event (e.g. to read the request id).
        """
        call = self.prepare(CallOptions("POST", path, json_body=payload, model=model, credential=credential),
                            accept=SSE)
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
        return self.runtime.retry_loop(attempts, lambda: attempt(call, next(numbers)))

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
        client: ClientT = self._client if self._client is not None else self.runtime.shared_client(self.config)
        return client

    #: the blocking or asyncio functions this twin's calls run with (see :class:`Runtime`)
    runtime: ClassVar[Runtime]

    def _whole_body(self, call: PreparedCall, attempt: int) -> Any:
        raise NotImplementedError

    def _sse_events(self, call: PreparedCall, attempt: int, on_open: HeadersSeen | None) -> Any:
        raise NotImplementedError

    def _binary_chunks(self, call: PreparedCall, attempt: int, what: str) -> Any:
        raise NotImplementedError


def _slot_deadline(call: PreparedCall, attempt: int) -> float | None:
    """Until when an attempt of ``call`` may wait for a limiter slot: its timeout, within total_timeout."""
    return call.attempt_deadline()


# ----------------------------------------------------------------------------- sync


# the httpx types quoted: httpx is imported on first use (b3n._lazy)
class SyncTransport(_Calls["httpx.Client", "httpx.Response", Iterator[dict[str, Any]], Iterator[bytes]]):
    """Blocking transport. Thread-safe (httpx.Client is). The calls are those of :class:`_Calls`."""

    runtime = BLOCKING

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
                raise self.status_error(response, read_capped(response, MAX_ERROR_BODY_BYTES), call.model)
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
            body = read_capped(response, MAX_BODY_BYTES, deadline=deadline, url=call.url, whole=True)
        yield with_body(response, body)

    def _sse_events(self, call: PreparedCall, attempt: int, on_open: HeadersSeen | None) -> Iterator[dict[str, Any]]:
        with self._open(call, attempt) as response:
            if not is_event_stream(response):
                raise not_a_stream(call.url, response, read_capped(response, MAX_ERROR_BODY_BYTES))
            reader = EventReader(call, response, on_open)
            for chunk in response.iter_bytes():
                yield from reader.feed(chunk)
                if reader.done:
                    return
            yield from reader.end(call.url)

    def _binary_chunks(self, call: PreparedCall, attempt: int, what: str) -> Iterator[bytes]:
        with self._open(call, attempt) as response:
            if is_document(response):
                raise not_binary(what, response, read_capped(response, MAX_ERROR_BODY_BYTES))
            budget = ChunkBudget(MAX_BINARY_BYTES, call.deadline, call.url)
            for chunk in response.iter_bytes():
                yield budget.take(chunk)


# ----------------------------------------------------------------------------- async


class AsyncTransport(
    _Calls["httpx.AsyncClient", Awaitable["httpx.Response"], AsyncIterator[dict[str, Any]], AsyncIterator[bytes]]
):
    """asyncio transport; real async I/O (no thread offloading). The twin of :class:`SyncTransport`."""

    runtime = ASYNCIO

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
                raise self.status_error(response, await aread_capped(response, MAX_ERROR_BODY_BYTES), call.model)
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
            body = await aread_capped(response, MAX_BODY_BYTES, deadline=deadline, url=call.url, whole=True)
        yield with_body(response, body)

    async def _sse_events(
        self, call: PreparedCall, attempt: int, on_open: HeadersSeen | None
    ) -> AsyncIterator[dict[str, Any]]:
        async with self._open(call, attempt) as response:
            if not is_event_stream(response):
                raise not_a_stream(call.url, response, await aread_capped(response, MAX_ERROR_BODY_BYTES))
            reader = EventReader(call, response, on_open)
            async for chunk in response.aiter_bytes():
                for event in reader.feed(chunk):
                    yield event
                if reader.done:
                    return
            for event in reader.end(call.url):
                yield event

    async def _binary_chunks(self, call: PreparedCall, attempt: int, what: str) -> AsyncIterator[bytes]:
        async with self._open(call, attempt) as response:
            if is_document(response):
                raise not_binary(what, response, await aread_capped(response, MAX_ERROR_BODY_BYTES))
            budget = ChunkBudget(MAX_BINARY_BYTES, call.deadline, call.url)
            async for chunk in response.aiter_bytes():
                yield budget.take(chunk)

