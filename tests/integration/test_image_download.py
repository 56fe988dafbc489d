"""Saving a generated image is not an SSRF or memory hole (issue 14, item 4).

A small relay of the test's own answers ``/v1/images/generations`` with whatever image URL the test
chooses, and serves hostile "images" (redirects, HTML, oversized and cut bodies) on its own origin;
a second loopback server plays the private host an attacker wants reached. Every test asserts what
reached each server and which files are left on disk.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n._errors import B3nConnectionError, B3nError, B3nResponseError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
HTML = b"<!doctype html><html><body>Sign in to continue</body></html>"


class Server:
    """A loopback HTTP server: ``routes[path](handler)`` answers, ``hits`` counts requests per path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.image_url = ""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.hits[self.path] += 1
                route = outer.routes.get(self.path)
                if route is None:
                    _send(self, 404, b"{}", "application/json")
                else:
                    route(self)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.hits[self.path] += 1
                body = json.dumps({"created": 1, "data": [{"url": outer.image_url}]}).encode()
                _send(self, 200, body, "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def _redirect(to: str) -> Callable[[BaseHTTPRequestHandler], None]:
    return lambda h: _send(h, 302, b"", "text/plain", Location=to)


def _png(h: BaseHTTPRequestHandler) -> None:
    _send(h, 200, PNG, "image/png")


def _claims_huge(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "image/png")
    h.send_header("Content-Length", str(100 * 1024 * 1024))
    h.end_headers()
    h.wfile.write(PNG)  # and never the rest


def _streams_forever(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "image/png")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    block = bytes(1024 * 1024)
    try:
        h.wfile.write(b"%x\r\n%s\r\n" % (len(PNG), PNG))
        for _ in range(40):  # 40 MB, over the 32 MB cap
            h.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
        h.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass  # the client hung up at the cap


def _cut(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "image/png")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.write(PNG)
    h.close_connection = True


@pytest.fixture
def relay() -> Iterator[Server]:
    server = Server()
    yield server
    server.close()


@pytest.fixture
def private_host() -> Iterator[Server]:
    server = Server()
    server.routes["/secret.png"] = _png
    yield server
    server.close()


def _client(relay: Server) -> B3nClient:
    return B3nClient(api_key="sk-test", base_url=relay.origin + "/v1", max_retries=0, timeout=10)


def _save(relay: Server, url: str, out: Path, **kw: Any) -> Path:
    relay.image_url = url
    image = _client(relay).images.generate("a fox").images[0]
    return image.save(out, **kw)


def _files(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*"))


def test_the_relays_own_origin_is_downloaded(relay: Server, tmp_path: Path) -> None:
    relay.routes["/files/a.png"] = _png
    saved = _save(relay, relay.origin + "/files/a.png", tmp_path)
    assert saved.read_bytes() == PNG and saved.suffix == ".png" and _files(tmp_path) == [saved.name]
    assert relay.hits["/files/a.png"] == 1


@pytest.mark.parametrize("target", ["private", "metadata", "https-localhost"])
def test_a_url_on_another_private_host_is_refused_without_a_request(
    relay: Server, private_host: Server, tmp_path: Path, target: str
) -> None:
    port = private_host.origin.rsplit(":", 1)[1]
    url = {"private": private_host.origin + "/secret.png",
           "metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
           "https-localhost": f"https://localhost:{port}/secret.png"}[target]  # checked after DNS resolution
    with pytest.raises(B3nResponseError, match="Refused to download") as info:
        _save(relay, url, tmp_path / "out.png")
    assert "allow_private_hosts=True" in str(info.value)
    assert private_host.hits["/secret.png"] == 0 and _files(tmp_path) == []


def test_private_hosts_are_reached_only_with_the_explicit_opt_in(
    relay: Server, private_host: Server, tmp_path: Path
) -> None:
    saved = _save(relay, private_host.origin + "/secret.png", tmp_path / "ok.png", allow_private_hosts=True)
    assert saved.read_bytes() == PNG and private_host.hits["/secret.png"] == 1


@pytest.mark.parametrize("hop_to", ["private", "metadata"])
def test_every_redirect_hop_is_checked(relay: Server, private_host: Server, tmp_path: Path, hop_to: str) -> None:
    target = private_host.origin + "/secret.png" if hop_to == "private" else "http://169.254.169.254/latest/"
    relay.routes["/files/hop.png"] = _redirect(target)
    with pytest.raises(B3nResponseError, match="Refused to download"):
        _save(relay, relay.origin + "/files/hop.png", tmp_path)
    assert relay.hits["/files/hop.png"] == 1 and private_host.hits["/secret.png"] == 0
    assert _files(tmp_path) == []


@pytest.mark.parametrize(("route", "expected"), [
    (lambda h: _send(h, 200, HTML, "text/html; charset=utf-8"), "text/html, not an image"),
    (lambda h: _send(h, 200, HTML, "image/png"), "does not start like"),  # a lying content type
    (_claims_huge, "over the"),
    (_streams_forever, "over the"),
])
def test_html_and_oversized_bodies_leave_nothing_behind(
    relay: Server, tmp_path: Path, route: Callable[[BaseHTTPRequestHandler], None], expected: str
) -> None:
    relay.routes["/files/x.png"] = route
    with pytest.raises(B3nResponseError, match=expected):
        _save(relay, relay.origin + "/files/x.png", tmp_path / "x.png")
    with pytest.raises(B3nResponseError, match=expected):
        _save(relay, relay.origin + "/files/x.png", tmp_path)  # into a directory: same, no stray name
    assert relay.hits["/files/x.png"] == 2 and _files(tmp_path) == []


def test_a_cut_body_leaves_nothing_behind(relay: Server, tmp_path: Path) -> None:
    relay.routes["/files/cut.png"] = _cut
    with pytest.raises(B3nConnectionError):
        _save(relay, relay.origin + "/files/cut.png", tmp_path / "cut.png")
    assert relay.hits["/files/cut.png"] == 1 and _files(tmp_path) == []


def test_in_memory_download_is_capped_too(relay: Server) -> None:
    relay.routes["/files/big.png"] = _streams_forever
    relay.image_url = relay.origin + "/files/big.png"
    image = _client(relay).images.generate("a fox").images[0]
    with pytest.raises(B3nResponseError, match="over the"):
        image.data()


def test_async_save_follows_the_same_policy(relay: Server, private_host: Server, tmp_path: Path) -> None:
    relay.routes["/files/hop.png"] = _redirect(private_host.origin + "/secret.png")
    relay.routes["/files/a.png"] = _png
    client = AsyncB3nClient(api_key="sk-test", base_url=relay.origin + "/v1", max_retries=0, timeout=10)

    async def main() -> tuple[Path, BaseException]:
        relay.image_url = relay.origin + "/files/a.png"
        good = await (await client.images.generate("a fox")).images[0].asave(tmp_path)
        relay.image_url = relay.origin + "/files/hop.png"
        bad = (await client.images.generate("a fox")).images[0]
        try:
            await bad.asave(tmp_path / "bad.png")
        except B3nError as exc:
            return good, exc
        raise AssertionError("the redirect to a private host was followed")

    good, error = asyncio.run(main())
    assert isinstance(error, B3nResponseError) and "Refused" in str(error)
    assert good.read_bytes() == PNG and _files(tmp_path) == [good.name]
    assert private_host.hits["/secret.png"] == 0
