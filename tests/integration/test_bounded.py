"""Bounded memory and time against a hostile relay (issue 14, item 8).

- a 50 MB SSE line with no newline raises a typed error; the bytes held stay far below 50 MB;
- ``timeout`` bounds a whole non-streamed attempt: a body trickling one byte per 0.8 s cannot hold
  ``timeout=1`` open for minutes;
- a stream that sends only keep-alive comments after its first event ends with
  ``B3nStreamTimeoutError`` after the idle timeout, carrying the partial output;
- ``total_timeout`` caps the whole call, retries included;
- error bodies are read only up to a cap.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

from b3n import (
    AsyncB3nClient,
    B3nClient,
    B3nResponseError,
    B3nServerError,
    B3nStreamTimeoutError,
    B3nTimeoutError,
)
from tests.hostile import CHAT_CHUNK, Handler, HostileServer

HELLO = [{"role": "user", "content": "hi"}]
MB = 1024 * 1024


def _client(srv: HostileServer, **kw: object) -> B3nClient:
    return B3nClient(api_key="sk-bounded", base_url=srv.url + "/v1", **kw)  # type: ignore[arg-type]


def _endless_line(h: Handler, n: int) -> None:
    h.start(200, "text/event-stream")
    h.send(b"data: ")
    block = b"a" * MB
    for _ in range(50):  # 50 MB, never a newline
        h.send(block)


def test_a_50_mb_sse_line_raises_a_typed_error_with_memory_bounded() -> None:
    with HostileServer(_endless_line) as srv:
        tracemalloc.start()
        try:
            with pytest.raises(B3nResponseError, match="longer than 8 MB"):
                list(_client(srv, max_retries=2, timeout=10).chat.stream("gpt-4o-mini", HELLO))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 40 * MB, f"peak {peak / MB:.0f} MB"
        assert srv.count("/chat/completions") == 1  # a body that cannot be read is not retried


async def test_a_50_mb_sse_line_async() -> None:
    with HostileServer(_endless_line) as srv:
        client = AsyncB3nClient(api_key="sk-bounded", base_url=srv.url + "/v1", timeout=10)
        with pytest.raises(B3nResponseError, match="longer than 8 MB"):
            [c async for c in client.chat.stream("gpt-4o-mini", HELLO)]


def _trickle(h: Handler, n: int) -> None:
    h.start(200, "application/json", length=100)
    for _ in range(100):
        h.send(b" ", pause=0.8)


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_timeout_bounds_a_whole_trickling_body(asynchronous: bool) -> None:
    with HostileServer(_trickle) as srv:
        started = time.monotonic()
        with pytest.raises(B3nTimeoutError, match="within timeout"):
            if asynchronous:
                await AsyncB3nClient(api_key="sk-bounded", base_url=srv.url + "/v1", timeout=1,
                                     max_retries=0).chat.create("gpt-4o-mini", HELLO)
            else:
                _client(srv, timeout=1, max_retries=0).chat.create("gpt-4o-mini", HELLO)
        elapsed = time.monotonic() - started
        assert elapsed < 5, f"{elapsed:.1f}s"  # was 100 x 0.8 s = 80 s


def _keepalives_only(h: Handler, n: int) -> None:
    h.start(200, "text/event-stream")
    h.send(CHAT_CHUNK)
    for _ in range(40):
        h.send(b": PING\n\n", pause=0.25)


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_keepalives_do_not_keep_a_silent_stream_alive(asynchronous: bool) -> None:
    with HostileServer(_keepalives_only) as srv:
        received: list[str] = []
        started = time.monotonic()
        with pytest.raises(B3nStreamTimeoutError) as info:
            if asynchronous:
                client = AsyncB3nClient(api_key="sk-bounded", base_url=srv.url + "/v1", timeout=10,
                                        stream_idle_timeout=1)
                async for chunk in client.chat.stream("gpt-4o-mini", HELLO):
                    received.append(chunk.content)
            else:
                for chunk in _client(srv, timeout=10, stream_idle_timeout=1).chat.stream("gpt-4o-mini", HELLO):
                    received.append(chunk.content)
        elapsed = time.monotonic() - started
        assert "".join(received) == "Hi" and info.value.partial.content == "Hi"
        assert "keep-alive" in str(info.value)
        assert elapsed < 6, f"{elapsed:.1f}s"  # was 40 x 0.25 s = 10 s, then "ended without [DONE]"
        assert srv.count("/chat/completions") == 1


def _always_busy(h: Handler, n: int) -> None:
    h.reply(503, b'{"error": {"message": "busy (request id: b1)"}}')


def _never_answers(h: Handler, n: int) -> None:
    time.sleep(8)
    h.reply(503, b"{}")


def test_total_timeout_caps_retries_and_waits() -> None:
    with HostileServer(_always_busy) as srv:
        started = time.monotonic()
        with pytest.raises(B3nTimeoutError, match="total_timeout"):
            _client(srv, max_retries=20, total_timeout=1.5).chat.create("gpt-4o-mini", HELLO)
        assert time.monotonic() - started < 3  # 20 retries with real backoff would take minutes
        assert 2 <= srv.count("/chat/completions") <= 5


def test_total_timeout_shortens_an_attempt() -> None:
    with HostileServer(_never_answers) as srv:
        started = time.monotonic()
        with pytest.raises(B3nTimeoutError):
            _client(srv, timeout=30, max_retries=3, total_timeout=1).chat.create("gpt-4o-mini", HELLO)
        assert time.monotonic() - started < 4  # the server answers after 8 s


HUGE_ERROR = b'{"error": {"message": "' + b"x" * (20 * MB) + b'"}}'  # built before memory is traced


def _huge_error(h: Handler, n: int) -> None:
    h.reply(500, HUGE_ERROR)


def test_error_bodies_are_read_only_up_to_a_cap() -> None:
    with HostileServer(_huge_error) as srv:
        tracemalloc.start()
        try:
            with pytest.raises(B3nServerError) as info:
                _client(srv, max_retries=0).chat.create("gpt-4o-mini", HELLO)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(info.value.body or "") <= 500
        assert peak < 5 * MB, f"peak {peak / MB:.1f} MB"
