"""Relay calls never follow a redirect to another origin; same-origin redirects keep working.

Two loopback servers on different ports are two origins. The first answers a redirect to the
second: the call fails with ``B3nCrossOriginRedirectError`` naming the second origin, and the
second server received nothing (no request, so no header and no body).
"""

from __future__ import annotations

import functools

import pytest

from b3n import AsyncB3nClient, B3nClient, B3nCrossOriginRedirectError
from tests.hostile import CHAT_BODY, Handler, HostileServer

HELLO = [{"role": "user", "content": "hi"}]
SECRET_HEADER = "X-Team-Secret"
SECRET = "team-canary-5f2e"
ACCOUNT = b'{"success": true, "data": {"id": 7, "username": "ann", "quota": 500000, "used_quota": 0}}'


def _ok(h: Handler, n: int) -> None:
    h.reply(200, ACCOUNT if "/api/user/self" in h.path else CHAT_BODY)


def _redirect_to(target: str, status: int, h: Handler, n: int) -> None:
    h.reply(status, b"", headers={"Location": target + h.path})


@pytest.mark.parametrize("status", [302, 307, 308])
def test_cross_origin_redirect_is_refused_and_nothing_reaches_the_target(status: int) -> None:
    with HostileServer(_ok) as other, HostileServer(functools.partial(_redirect_to, other.url, status)) as relay:
        client = B3nClient(api_key="sk-redirect", base_url=relay.url + "/v1", max_retries=2,
                           default_headers={SECRET_HEADER: SECRET})
        with pytest.raises(B3nCrossOriginRedirectError) as info:
            client.chat.create("gpt-4o-mini", HELLO)
        assert info.value.target_origin == other.url
        assert other.url in str(info.value) and "base_url" in str(info.value)
        assert SECRET not in str(info.value)
        assert relay.count("/chat/completions") == 1  # not retried
        assert other.requests == []


def test_account_token_and_user_id_never_follow_a_cross_origin_redirect() -> None:
    with HostileServer(_ok) as other, HostileServer(functools.partial(_redirect_to, other.url, 302)) as relay:
        client = B3nClient(base_url=relay.url + "/v1", access_token="tok-canary", user_id=42,
                           default_headers={SECRET_HEADER: SECRET})
        with pytest.raises(B3nCrossOriginRedirectError, match=other.url):
            client.account.whoami()
        assert other.requests == []
        assert relay.requests[0].headers.get("New-Api-User") == "42"  # it did go to the configured relay


async def test_cross_origin_redirect_async() -> None:
    with HostileServer(_ok) as other, HostileServer(functools.partial(_redirect_to, other.url, 307)) as relay:
        client = AsyncB3nClient(api_key="sk-redirect", base_url=relay.url + "/v1",
                                default_headers={SECRET_HEADER: SECRET})
        with pytest.raises(B3nCrossOriginRedirectError):
            await client.chat.create("gpt-4o-mini", HELLO)
        with pytest.raises(B3nCrossOriginRedirectError):
            [c async for c in client.chat.stream("gpt-4o-mini", HELLO)]
        assert other.requests == []


def _same_origin(h: Handler, n: int) -> None:
    if h.path.startswith("/v1/"):
        h.reply(308, b"", headers={"Location": h.path.replace("/v1/", "/moved/v1/", 1)})
    else:
        _ok(h, n)


def test_same_origin_redirect_is_followed_with_headers_and_body() -> None:
    with HostileServer(_same_origin) as relay:
        client = B3nClient(api_key="sk-redirect", base_url=relay.url + "/v1", default_headers={SECRET_HEADER: SECRET})
        assert client.chat.create("gpt-4o-mini", HELLO).content == "ok"
        first, second = (r for r in relay.requests if r.path.endswith("/chat/completions"))
        assert second.path == "/moved/v1/chat/completions"
        assert second.headers.get(SECRET_HEADER) == SECRET and second.headers.get("Authorization")
        assert second.body == first.body and b'"gpt-4o-mini"' in second.body


async def test_same_origin_redirect_async() -> None:
    with HostileServer(_same_origin) as relay:
        client = AsyncB3nClient(api_key="sk-redirect", base_url=relay.url + "/v1")
        assert (await client.chat.create("gpt-4o-mini", HELLO)).content == "ok"
        assert relay.count("/moved/v1/chat/completions") == 1
