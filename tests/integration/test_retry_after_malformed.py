"""A malformed ``Retry-After`` / ``retry-after-ms`` from the relay counts as absent, never a bare ValueError.

A small server answers 429 with the hostile header, then 200: the call retries after the normal
(short, patched) backoff and succeeds with exactly two requests, quickly.
"""

from __future__ import annotations

import functools
import time

import pytest

from b3n import AsyncB3nClient, B3nClient
from tests.hostile import CHAT_BODY, Handler, HostileServer

HELLO = [{"role": "user", "content": "hi"}]
RATE_LIMITED = b'{"error": {"message": "slow down (request id: r9)", "code": "rate_limit_exceeded"}}'

HOSTILE_HEADERS = [
    {"Retry-After": "next week"},
    {"Retry-After": "Fri, 32 Foo 2026 25:61:00 GMT"},  # looks like an HTTP date, is not one
    {"Retry-After": "Mon, 01 Jan 99999 00:00:00 GMT"},  # a date beyond what datetime holds
    {"retry-after-ms": "²"},  # str.isdigit() says yes, float() says no
    {"retry-after-ms": "nan", "Retry-After": "inf"},  # float() would accept both: an endless wait
    {"Retry-After": "1e999"},
]


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from b3n import _transport as transport
    from b3n._retry import RetryPolicy

    monkeypatch.setattr(transport, "RetryPolicy", functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.02))


def _script(headers: dict[str, str], h: Handler, n: int) -> None:
    if n == 0:
        h.reply(429, RATE_LIMITED, headers=headers)
    else:
        h.reply(200, CHAT_BODY)


@pytest.mark.parametrize("headers", HOSTILE_HEADERS, ids=lambda h: repr(h))
def test_malformed_retry_after_is_treated_as_absent(headers: dict[str, str]) -> None:
    with HostileServer(functools.partial(_script, headers)) as srv:
        client = B3nClient(api_key="sk-x", base_url=srv.url + "/v1", max_retries=2, timeout=5)
        started = time.monotonic()
        assert client.chat.create("gpt-4o-mini", HELLO).content == "ok"
        assert time.monotonic() - started < 3
        assert srv.count("/chat/completions") == 2


async def test_malformed_retry_after_async() -> None:
    with HostileServer(functools.partial(_script, {"Retry-After": "next week", "retry-after-ms": "²"})) as srv:
        client = AsyncB3nClient(api_key="sk-x", base_url=srv.url + "/v1", max_retries=2, timeout=5)
        assert (await client.chat.create("gpt-4o-mini", HELLO)).content == "ok"
        assert srv.count("/chat/completions") == 2
