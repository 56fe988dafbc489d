"""Where the system access token goes when the base URL has a path prefix (issue 14, item 9).

The account API is the base URL without its ``/v1``, path prefix kept: the token never goes to another
path root of the same host (another service behind the same gateway), and never to another host.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from b3n import AsyncB3nClient, B3nClient
from tests.hostile import serving

TOKEN = "emu-access-token-prefix-canary"


class _Gateway(BaseHTTPRequestHandler):
    """A gateway that serves the relay under a prefix; records (path, Authorization) of every request."""

    seen: list[tuple[str, str | None]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.endswith("/api/user/self"):
            body = json.dumps({"success": True, "message": "", "data": {"id": 7, "quota": 500_000, "used_quota": 0}})
            status = 200
        else:
            body, status = json.dumps({"error": {"message": "no such route"}}), 404
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    seen: list[tuple[str, str | None]] = []
    with serving(type("Handler", (_Gateway,), {"seen": seen})) as url:
        yield url, seen


@pytest.mark.parametrize(("base_path", "account_path"), [
    ("/v1", "/api/user/self"),
    ("/gw/b3n/v1", "/gw/b3n/api/user/self"),
    ("/gw/openai", "/gw/openai/api/user/self"),  # no /v1 to strip: the token stays under the given path
])
def test_account_call_stays_under_the_configured_path(
    gateway: tuple[str, list[tuple[str, str | None]]], base_path: str, account_path: str
) -> None:
    origin, seen = gateway
    client = B3nClient(api_key="sk-test", base_url=origin + base_path, access_token=TOKEN, user_id=7,
                       max_retries=0)
    assert client.account.whoami().balance_usd == 1.0
    aclient = AsyncB3nClient(api_key="sk-test", base_url=origin + base_path, access_token=TOKEN, user_id=7,
                             max_retries=0)
    assert asyncio.run(aclient.account.whoami()).balance_usd == 1.0
    assert seen == [(account_path, TOKEN), (account_path, TOKEN)]
