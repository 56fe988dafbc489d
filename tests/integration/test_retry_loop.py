"""The one retry loop: a stream path sends at most ``max_retries + 1`` requests, whatever fails where.

The relay here answers 500, 500, then a 200 whose body breaks before its first byte, over and
over. A retry loop nested in another (one around the headers, one around the first content)
would send (n+1)² = 9 requests; the single loop of ``b3n._retry`` sends 3, then gives up.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from b3n import AsyncB3nClient, B3nClient, B3nConnectionError
from tests.hostile import SERVER_ERROR, Handler, HostileServer

KEY = "sk-retryloop"
HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from b3n import _transport as transport
    from b3n._retry import RetryPolicy

    monkeypatch.setattr(transport, "RetryPolicy", functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.02))


def _fail_then_break(content_type: str, h: Handler, n: int) -> None:
    if n % 3 < 2:
        h.reply(500, SERVER_ERROR)
    else:  # headers promise 100 bytes, then the connection closes
        h.start(200, content_type, length=100)
        h.hang_up()


def _clients(url: str, **kw: object) -> tuple[B3nClient, AsyncB3nClient]:
    args = {"api_key": KEY, "base_url": url + "/v1", "max_retries": 2, "timeout": 5, **kw}
    return B3nClient(**args), AsyncB3nClient(**args)  # type: ignore[arg-type]


def test_sync_chat_stream_sends_at_most_max_retries_plus_one() -> None:
    with HostileServer(functools.partial(_fail_then_break, "text/event-stream")) as srv:
        client, _ = _clients(srv.url)
        with pytest.raises(B3nConnectionError, match="broke before the response was complete"):
            list(client.chat.stream("gpt-4o-mini", HELLO))
        assert srv.count("/chat/completions") == 3


async def test_async_chat_stream_sends_at_most_max_retries_plus_one() -> None:
    with HostileServer(functools.partial(_fail_then_break, "text/event-stream")) as srv:
        _, aclient = _clients(srv.url)
        with pytest.raises(B3nConnectionError):
            [c async for c in aclient.chat.stream("gpt-4o-mini", HELLO)]
        assert srv.count("/chat/completions") == 3


def test_sync_speech_to_file_sends_at_most_max_retries_plus_one(tmp_path: Path) -> None:
    with HostileServer(functools.partial(_fail_then_break, "audio/mpeg")) as srv:
        client, _ = _clients(srv.url, retry_billed=True)
        with pytest.raises(B3nConnectionError):
            client.audio.speech_to_file(tmp_path / "out.mp3", "Hello")
        assert srv.count("/audio/speech") == 3
        assert list(tmp_path.iterdir()) == []


async def test_async_iter_speech_sends_at_most_max_retries_plus_one() -> None:
    with HostileServer(functools.partial(_fail_then_break, "audio/mpeg")) as srv:
        _, aclient = _clients(srv.url, retry_billed=True)
        with pytest.raises(B3nConnectionError):
            [c async for c in aclient.audio.iter_speech("Hello")]
        assert srv.count("/audio/speech") == 3
