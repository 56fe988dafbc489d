"""A tiny scripted HTTP server on loopback for hostile-relay tests (pure standard library).

Each request is answered by ``script(handler, n)`` (``n`` counts requests from 0); the server
records every request (method, path, headers, body) so tests assert what reached it.

Example:
    >>> import httpx
    >>> def hello(h, n):
    ...     h.reply(200, b'{"ok": true}')
    >>> with HostileServer(hello) as srv:
    ...     httpx.get(srv.url + "/x").json(), len(srv.requests)
    ({'ok': True}, 1)
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            n = len(self.server.seen)
            self.server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.server.script(self, n)
        self.close_connection = True

    do_GET = do_POST = do_PUT = _handle

    # ------------------------------------------------------------------ helpers for scripts

    def reply(self, status: int, body: bytes = b"", content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def start(self, status: int = 200, content_type: str = "text/event-stream",
              headers: dict[str, str] | None = None, length: int | None = None) -> None:
        """Send the status line and headers only (a body follows with :meth:`send`)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()

    def send(self, data: bytes, pause: float = 0.0) -> None:
        if pause:
            time.sleep(pause)
        self.wfile.write(data)
        self.wfile.flush()

    def hang_up(self) -> None:
        """Close the connection at once (no more bytes)."""
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(2)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    script: Callable[[Handler, int], None]
    seen: list[Seen]
    lock: threading.Lock


class HostileServer:
    """``with HostileServer(script) as srv:`` serves on ``srv.url`` (``http://127.0.0.1:PORT``)."""

    def __init__(self, script: Callable[[Handler, int], None]) -> None:
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.script = script
        self._server.seen = []
        self._server.lock = threading.Lock()
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def requests(self) -> list[Seen]:
        return list(self._server.seen)

    def count(self, path_end: str) -> int:
        """How many requests reached a path ending in ``path_end`` (e.g. ``"/chat/completions"``)."""
        return sum(1 for r in self._server.seen if r.path.endswith(path_end))

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve a test's own ``handler`` class on a free loopback port; yields ``http://HOST:PORT``, then stops it."""
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CHAT_CHUNK = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",'
    b'"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\n'
)
CHAT_BODY = (
    b'{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,'
    b'"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],'
    b'"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'
)
SERVER_ERROR = b'{"error": {"message": "upstream busy (request id: r1)", "type": "x"}}'
