"""HTTP plumbing: the :class:`Emulator` object, request recording, auth, faults and response writing."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import sys
import threading
import time
import traceback
import warnings
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from . import anthropic, arguments, relays, routes
from .account import strip_bearer
from .embeddings import EmbeddingEngine
from .errors import (
    ApiError,
    insufficient_quota,
    invalid_token,
    missing_token,
    model_not_found,
    new_request_id,
    rate_limited,
)
from .exposure import EmulatorExposedWarning, exposure_warning
from .faults import ANY_ROUTE, Fault, FaultBook, html_error_page
from .pricing import Billing, default_pricing
from .prompt_cache import PromptCache
from .script import Script, ScriptedError, ScriptedReply
from .signatures import SignatureBook
from .traffic import Ticket, Traffic

MAX_BODY_BYTES = 64 * 1024 * 1024
_POLL = 0.02


@dataclass
class RecordedRequest:
    """One request as the emulator received it."""

    route: str
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    body_size: int
    fault: str | None = None
    status: int | None = None
    time: float = field(default_factory=time.time)
    #: the ``X-Oneapi-Request-Id`` the emulator answered with.
    request_id: str | None = None


class _ClientGone(Exception):
    """The client closed the connection while we were waiting or writing."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.emulator = emulator
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection resets are normal (clients close keep-alive sockets); record anything else."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        self.emulator._internal_error(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "B3nEmulator/1.0"
    sys_version = ""
    timeout = 300
    server: _Server

    # -- plumbing ---------------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):  # small writes (headers, SSE events) must not wait for delayed ACKs
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.emulator._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._track(self.connection, add=False)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    for _ in range(100):  # trailer lines, bounded
                        if self.rfile.readline(1024) in (b"\r\n", b"\n", b""):
                            return bytes(out)
                    raise ValueError("too many trailer lines")
                if size < 0 or len(out) + size > MAX_BODY_BYTES:  # checked before reading (or allocating)
                    self.close_connection = True
                    raise ApiError(413, f"Request body too large (a {size}-byte chunk)", type="server_error")
                out += self.rfile.read(size)
                self.rfile.readline(8)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "Invalid Content-Length header") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, f"Request body too large ({length} bytes)", type="server_error")
        return self.rfile.read(length) if length > 0 else b""

    def _client_gone(self) -> bool:
        """True if the peer closed its side of the connection."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            data = self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            return bool(data == b"")
        except BlockingIOError:
            return False
        except (OSError, ValueError):
            return True

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` while watching the socket; raise :class:`_ClientGone` if the client leaves."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.05))
            except (OSError, ValueError):
                raise _ClientGone() from None
            if readable:
                if self._client_gone():
                    raise _ClientGone()
                time.sleep(min(remaining, _POLL))  # pipelined data: keep waiting without spinning

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
        except OSError:
            raise _ClientGone() from None

    def _abort(self) -> None:
        """Close the connection now (no more bytes)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- request handling -------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        emu = self.server.emulator
        request_id = new_request_id()
        path = self.path.split("?", 1)[0]
        key, known = routes.route_key(method, path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = RecordedRequest(route=key, method=method, path=path, headers=headers, json=None, body_size=0,
                                 request_id=request_id)
        emu._begin(record)
        ticket: Ticket | None = None
        try:
            try:
                try:
                    raw = self._read_body()
                except ValueError:
                    self.close_connection = True
                    raise ApiError(400, "Malformed request body framing") from None
            except ApiError as exc:
                record.status = exc.status
                self._send(routes.json_reply(exc.body(request_id), exc.status), request_id, None)
                return
            record.body_size = len(raw)
            parsed = _parse_json(raw, headers)
            if key == routes.TRANSCRIPTIONS:
                record.json = _form_summary(headers, raw)
            else:
                record.json = parsed
            if known:  # the relay's latency and per-key limit (emu.traffic; off by default)
                ticket = emu.traffic.admit(key, headers, parsed)
                if not ticket.admitted:
                    body, extra = emu.traffic.rejection(ticket, request_id)
                    record.status = 429
                    self._send(routes.Reply(429, body, headers=extra), request_id, None)
                    return
            fault = emu._faults.take(key) if known else None
            record.fault = fault.kind if fault else None
            reply = self._reply(emu, key, known, method, path, headers, raw, parsed, fault, request_id)
            if ticket is not None and ticket.delay:  # the relay's time includes computing the answer
                self._wait(ticket.delay - (time.monotonic() - ticket.since))
            if reply is None:  # drop
                self._abort()
                return
            record.status = reply.status
            if key == routes.CHAT and reply.status == 200:
                emu.billing.record(parsed, reply.pieces if isinstance(reply, routes.StreamReply) else [reply.body])
            self._send(reply, request_id, fault)
        except _ClientGone:
            emu._disconnected()
            self._abort()
        except Exception:  # an emulator bug: answer 500 and keep serving
            emu._internal_error(traceback.format_exc())
            self.close_connection = True
        finally:
            if ticket is not None:
                emu.traffic.release(ticket)
            emu._end()

    def _reply(
        self,
        emu: Emulator,
        key: str,
        known: bool,
        method: str,
        path: str,
        headers: dict[str, str],
        raw: bytes,
        parsed: Any,
        fault: Fault | None,
        request_id: str,
    ) -> routes.Reply | routes.StreamReply | None:
        try:
            if not known:
                raise ApiError(404, f"Invalid URL ({method} {path})", code="invalid_url")
            if fault is not None:
                early = self._early_fault(fault, key, parsed, request_id)
                if early is not None or fault.kind == "drop":
                    return early
            if path.startswith("/v1/"):
                self._check_api_key(emu, headers, path)
            host = headers.get("host") or f"{emu.host}:{emu.port}"
            ctx = routes.Context(
                method=method,
                path=path,
                headers=headers,
                raw=raw,
                json=parsed,
                origin=f"http://{host}",
                quirks=emu.quirks,
                reply_chunks=emu.reply_chunks,
                engine=emu._engine,
                access_token=emu.access_token,
                user_id=emu.user_id,
                total_requests=emu.total_requests,
                signatures=emu._signatures,
                relay_quirks=frozenset(emu.relay_quirks) if emu.quirks else frozenset(),
                pricing=emu.pricing,
                group_ratio=emu.group_ratio,
                prompt_cache=emu.prompt_cache,
                relay=emu.relay,
                strict=emu.strict,
                prose_unless_forced=emu.prose_unless_forced,
                script=emu._script,
                native_routes=frozenset(emu.native_routes),
                request_id=request_id,
            )
            short = routes.SHORT_OF.get(key)
            if short is not None:  # OpenAI's 400 for a stray key, or the relay rebuilding the body without it
                ctx.json = arguments.forwarded_body(short, parsed, ctx.relay_quirks, emu.relay, strict=emu.strict)
            if fault is not None and fault.kind == "empty_choices":
                return routes.empty_choices_reply(key, ctx)
            return routes.HANDLERS[key](ctx)
        except ScriptedError as exc:
            return routes.Reply(exc.status, exc.raw_body(request_id), headers=exc.extra_headers())
        except ApiError as exc:
            return routes.json_reply(exc.body(request_id), exc.status)
        except _ClientGone:
            raise
        except Exception:
            emu._internal_error(traceback.format_exc())
            err = ApiError(500, "emulator internal error (see Emulator.server_errors)", type="server_error")
            return routes.json_reply(err.body(request_id), 500)

    def _check_api_key(self, emu: Emulator, headers: dict[str, str], path: str = "") -> None:
        token = strip_bearer(headers.get("authorization", ""))
        if "/v1/messages" in path and headers.get("x-api-key"):  # new-api: x-api-key wins on Claude's route
            token = strip_bearer(headers["x-api-key"])
        if not token:
            raise missing_token()
        if emu.api_key is not None and token != strip_bearer(emu.api_key):
            raise invalid_token()

    def _early_fault(
        self, fault: Fault, key: str, parsed: Any, request_id: str
    ) -> routes.Reply | routes.StreamReply | None:
        kind = fault.kind
        if kind == "rate_limit":
            reply = routes.json_reply(rate_limited().body(request_id), 429)
            if "retry_after" in fault.params:
                reply.headers["Retry-After"] = str(fault.params["retry_after"])
            return reply
        if kind == "server_error":
            return routes.Reply(fault.status, html_error_page(fault.status), "text/html")
        if kind == "quota":
            return routes.json_reply(insufficient_quota().body(request_id), 403)
        if kind == "auth":
            return routes.json_reply(invalid_token().body(request_id), 401)
        if kind in relays.TOKEN_ERRORS:
            err = relays.token_error(kind, self.server.emulator.relay_quirks)
            return routes.json_reply(err.body(request_id), err.status)
        if kind == "model_unavailable":
            model = parsed.get("model", "") if isinstance(parsed, dict) else ""
            return routes.json_reply(model_not_found(str(model)).body(request_id), 503)
        if kind == "bad_json":
            return routes.Reply(200, b'{"id": "x", "choices": [')
        if kind == "slow_first_byte" or (kind == "stall" and not _is_stream(parsed)):
            self._wait(fault.delay)
        return None

    # -- writing ----------------------------------------------------------------------------------
    def _send(self, reply: routes.Reply | routes.StreamReply, request_id: str, fault: Fault | None) -> None:
        emu = self.server.emulator
        latency = emu.latency
        if latency > 0:
            self._wait(latency)
        if isinstance(reply, routes.StreamReply):
            self._send_stream(reply, request_id, fault)
            return
        body = reply.body
        if fault is not None and fault.kind == "malformed_chunk" and reply.status == 200:
            body = body[: max(1, len(body) // 2)]  # a complete response whose JSON is cut short
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Oneapi-Request-Id", request_id)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
        except OSError:
            raise _ClientGone() from None
        if fault is not None and fault.kind == "stream_cut":
            self._write(body[: max(1, len(body) // 2)])  # announced length never arrives
            self._abort()
            return
        self._write(body)

    def _send_stream(self, reply: routes.StreamReply, request_id: str, fault: Fault | None) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Oneapi-Request-Id", request_id)
            if reply.sse:
                self.send_header("Cache-Control", "no-cache")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
        except OSError:
            raise _ClientGone() from None
        pieces = list(reply.pieces)
        if reply.sse:
            pieces.append(b"data: [DONE]\n\n")
        strike = None
        if fault is not None and fault.kind in ("stream_cut", "malformed_chunk", "stall", "midstream_error"):
            strike = min(fault.after, len(pieces) - 1 if reply.sse else len(pieces))
        for i, piece in enumerate([*pieces, None]):
            if fault is not None and i == strike:
                if fault.kind == "stream_cut":
                    self._abort()
                    return
                if fault.kind == "malformed_chunk" and reply.sse:
                    self._write_chunk(b"data: {not json\n\n")
                elif fault.kind == "midstream_error":  # new-api: plain JSON after the SSE headers, then the end
                    self._write_chunk(relays.midstream_error_body(request_id))
                    self._write(b"0\r\n\r\n")
                    return
                elif fault.kind == "stall" and reply.sse:  # non-SSE bodies stalled before the first byte
                    self._wait(fault.delay)
            if piece is None:
                break
            if i and self._client_gone():  # the client hung up mid-stream
                raise _ClientGone()
            self._write_chunk(piece)
        self._write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes) -> None:
        self._write(b"%x\r\n%b\r\n" % (len(data), data))


def _is_stream(parsed: Any) -> bool:
    return isinstance(parsed, dict) and parsed.get("stream") is True


def _parse_json(raw: bytes, headers: dict[str, str]) -> Any:
    ctype = headers.get("content-type", "")
    if not raw or ctype.startswith("multipart/"):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _form_summary(headers: dict[str, str], raw: bytes) -> dict[str, Any] | None:
    from .multipart import parse_multipart

    try:
        parts = parse_multipart(headers.get("content-type", ""), raw)
    except ApiError:
        return None
    out: dict[str, Any] = {}
    for part in parts:
        if part.filename is not None:
            out[part.name] = {"filename": part.filename, "content_type": part.content_type, "size": len(part.data)}
        else:
            out[part.name] = part.text()
    return out


class Emulator:
    """A local B3n relay speaking the real protocol over HTTP on loopback.

    >>> import json, urllib.request
    >>> with Emulator() as emu:
    ...     req = urllib.request.Request(
    ...         emu.base_url + "/chat/completions",
    ...         data=json.dumps({"model": "gpt-4o-mini",
    ...                          "messages": [{"role": "user", "content": "say 1"}]}).encode(),
    ...         headers={"Authorization": "Bearer sk-test", "Content-Type": "application/json"})
    ...     reply = json.load(urllib.request.urlopen(req))
    ...     reply["choices"][0]["message"]["content"], emu.count("chat")
    ('1', 1)

    Like OpenAI, it refuses unknown request arguments with 400 "Unrecognized request argument supplied: X"
    (``strict=False`` accepts and ignores them; the relay profiles drop them where the relay does, see
    :mod:`b3n.testing.arguments`). ``prose_unless_forced=True``: the model answers in prose unless
    ``tool_choice`` forces a tool. :meth:`script` queues exact replies.
    """

    def __init__(
        self,
        quirks: bool = True,
        relay: str = "docs",
        latency: float = 0.0,
        api_key: str | None = None,
        access_token: str = "emu-access-token",
        user_id: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        strict: bool = True,
        prose_unless_forced: bool = False,
    ) -> None:
        self.quirks = quirks
        #: refuse unknown top-level request arguments where the relay profile would (400 "Unrecognized request
        #: argument supplied: X", like OpenAI); False accepts and ignores them (see b3n.testing.arguments).
        self.strict = strict
        #: the model answers tool offers in prose unless ``tool_choice`` forces a tool (a named function or
        #: ``"required"``), as real Claude and Gemini models often do.
        self.prose_unless_forced = prose_unless_forced
        self._script = Script()
        #: the relay profile (see :mod:`b3n.testing.relays`); ``relay_quirks`` can be edited per quirk.
        self.relay = relay
        self.relay_quirks: set[str] = set(relays.check_relay(relay))
        #: the native routes served ("messages", "count_tokens"; see b3n.testing.anthropic), from the profile.
        self.native_routes: set[str] = anthropic.routes_of(relay)
        self.latency = latency
        self.api_key = api_key
        self.access_token = access_token
        self.user_id = user_id
        self.host = host
        self._requested_port = port
        self.reply_chunks: int | None = None
        self.server_errors: list[str] = []
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._requests: deque[RecordedRequest] = deque(maxlen=1000)
        self._total = 0
        self._disconnects = 0
        self._active = 0
        self._faults = FaultBook()
        self.traffic = Traffic()  # latency per route and per-key rate limits (see b3n.testing.traffic)
        self._engine = EmbeddingEngine()
        self._signatures = SignatureBook()  # Gemini thought signatures issued (kept across reset())
        #: new-api's price list served at GET /api/pricing (None: 404, like one-api); see b3n.testing.pricing.
        self.pricing: list[dict[str, Any]] | None = default_pricing()
        self.group_ratio: dict[str, float] = {"default": 1.0}
        #: the usage of every chat response served (cleared by reset()).
        self.billing = Billing()
        #: Claude prompt-cache prefixes written so far (cleared by reset()); see b3n.testing.prompt_cache.
        self.prompt_cache = PromptCache()
        self._server: _Server | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Bind the port and serve in a background daemon thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        exposed = exposure_warning(self.host)
        if exposed:
            warnings.warn(exposed, EmulatorExposedWarning, stacklevel=2)
        server = _Server((self.host, self._requested_port), self)
        self._server = server
        self._port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="b3n-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket and every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`; kept after :meth:`stop`)."""
        if self._port is None:
            raise RuntimeError("emulator not started")
        return self._port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` — what clients use as their base URL."""
        return self.origin + "/v1"

    # -- observation ------------------------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        """Requests received per route key, e.g. ``{"POST /v1/chat/completions": 3}``."""
        with self._lock:
            return dict(self._counts)

    def count(self, route: str) -> int:
        """Requests received for a short name ('chat', 'embeddings', ...) or a full route key."""
        key = routes.normalize_route(route)
        with self._lock:
            return self._counts.get(key, 0)

    @property
    def total_requests(self) -> int:
        """All requests received since start / last :meth:`reset`."""
        with self._lock:
            return self._total

    @property
    def requests(self) -> list[RecordedRequest]:
        """The last 1000 requests, oldest first."""
        with self._lock:
            return list(self._requests)

    def last_request(self, route: str | None = "chat") -> RecordedRequest | None:
        """The most recent request to ``route`` (short name or key; None = any route)."""
        key = routes.normalize_route(route) if route is not None else None
        with self._lock:
            for rec in reversed(self._requests):
                if key is None or rec.route == key:
                    return rec
        return None

    @property
    def disconnects(self) -> int:
        """Times a client went away while a response was delayed or being written."""
        with self._lock:
            return self._disconnects

    @property
    def active_requests(self) -> int:
        """Requests currently being handled."""
        with self._lock:
            return self._active

    def reset(self) -> None:
        """Clear counts, recorded requests, faults, traffic settings, disconnects and recorded server errors."""
        with self._lock:
            self._counts.clear()
            self._requests.clear()
            self._total = 0
            self._disconnects = 0
            self.server_errors.clear()
        self.billing.clear()
        self.prompt_cache.clear()
        self._faults.clear()
        self.traffic.clear()
        self._script.clear()

    # -- scripted replies -------------------------------------------------------------------------
    def script(self, *replies: ScriptedReply) -> None:
        """Queue the next chat answers, oldest first: text, tool calls or errors (see :mod:`b3n.testing.script`).

        Each chat request the emulator accepts (streamed or not) takes the oldest one; then the scripted model
        answers again. ``reset()`` empties the queue.

        >>> import json, urllib.request
        >>> from b3n.testing import Emulator, ToolCall
        >>> with Emulator() as emu:
        ...     emu.script(ToolCall("lookup", {"id": "not-a-number"}))
        ...     req = urllib.request.Request(
        ...         emu.base_url + "/chat/completions",
        ...         data=json.dumps({"model": "gpt-4o-mini",
        ...                          "messages": [{"role": "user", "content": "find order 7"}]}).encode(),
        ...         headers={"Authorization": "Bearer sk-test", "Content-Type": "application/json"})
        ...     call = json.load(urllib.request.urlopen(req))["choices"][0]["message"]["tool_calls"][0]
        ...     call["function"], emu.scripted
        ({'name': 'lookup', 'arguments': '{"id":"not-a-number"}'}, 0)
        """
        self._script.add(replies)

    @property
    def scripted(self) -> int:
        """How many scripted replies are still queued."""
        return len(self._script)

    # -- faults -----------------------------------------------------------------------------------
    def inject(self, kind: str, *, route: str = "chat", times: int = 1, **params: Any) -> None:
        """Queue fault ``kind`` for the next ``times`` requests to ``route`` (``"*"`` = any route).

        Kinds: rate_limit (retry_after=), server_error (status=), quota, auth, model_unavailable,
        drop, stream_cut (after=), malformed_chunk (after=), slow_first_byte (delay=),
        stall (after=, delay=), bad_json, empty_choices; relay errors shaped by the profile: token_exhausted,
        token_expired, token_disabled, token_invalid, token_missing, user_quota, and midstream_error (after=:
        new-api's plain-JSON error body after the SSE headers).
        """
        self._faults.inject(kind, _fault_route(route), times, params)

    def set_fault_rate(self, kind: str, rate: float, *, route: str = "chat", seed: int = 0, **params: Any) -> None:
        """Apply fault ``kind`` randomly (seeded) to a fraction ``rate`` of requests; rate 0 removes it."""
        self._faults.set_rate(kind, rate, _fault_route(route), seed, params)

    # -- internal hooks used by the handler -------------------------------------------------------
    def _begin(self, record: RecordedRequest) -> None:
        with self._lock:
            self._counts[record.route] = self._counts.get(record.route, 0) + 1
            self._total += 1
            self._active += 1
            self._requests.append(record)

    def _end(self) -> None:
        with self._lock:
            self._active -= 1

    def _disconnected(self) -> None:
        with self._lock:
            self._disconnects += 1

    def _internal_error(self, text: str) -> None:
        with self._lock:
            self.server_errors.append(text)
            del self.server_errors[:-50]

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def __repr__(self) -> str:
        state = f"{self.base_url}" if self._server is not None else "stopped"
        return f"<Emulator {state} quirks={self.quirks} relay={self.relay}>"


def _fault_route(route: str) -> str:
    return ANY_ROUTE if route == ANY_ROUTE else routes.normalize_route(route)
