"""One cookie jar per configuration (issue 14, item 10).

The connection pools are shared by every client of the process with the same TLS and proxy settings,
whatever their key. A cookie the relay sets for one key (a session, a sticky-routing cookie) must come
back only with that configuration's requests, never with another key's. A server of the test's own sets
a cookie naming the key it saw and records the Cookie header of every request.
"""

from __future__ import annotations

import asyncio
import http.server
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from b3n import AsyncB3nClient, B3nClient
from tests.hostile import serving


class _CookieRelay(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str]]] = []  # (key, Cookie header)

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        type(self).seen.append((key, self.headers.get("Cookie", "")))
        body = json.dumps({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", f"session=of-{key}; Path=/")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def relay() -> Iterator[str]:
    _CookieRelay.seen = []
    with serving(_CookieRelay) as url:
        yield url + "/v1"


def test_a_cookie_set_for_one_key_never_reaches_another_keys_requests(relay: str) -> None:
    alice, bob = B3nClient(api_key="sk-alice", base_url=relay), B3nClient(api_key="sk-bob", base_url=relay)
    assert alice.transport.client is bob.transport.client  # one shared pool: the case that used to leak
    alice.models.list()
    bob.models.list()
    alice.models.list()
    bob.models.list()
    assert _CookieRelay.seen == [
        ("sk-alice", ""), ("sk-bob", ""), ("sk-alice", "session=of-sk-alice"), ("sk-bob", "session=of-sk-bob"),
    ]


def test_the_same_holds_for_async_clients(relay: str) -> None:
    async def run() -> None:
        alice = AsyncB3nClient(api_key="sk-alice", base_url=relay)
        bob = AsyncB3nClient(api_key="sk-bob", base_url=relay)
        await alice.models.list()
        await bob.models.list()
        await bob.models.list()

    asyncio.run(run())
    assert _CookieRelay.seen == [("sk-alice", ""), ("sk-bob", ""), ("sk-bob", "session=of-sk-bob")]
