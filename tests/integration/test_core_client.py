"""The core client against the emulator over real HTTP: quirks, faults, streams, adaptation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n import _errors as e
from b3n._chat import ChatChunk, tool_spec
from b3n._errors import B3nStreamTimeoutError
from b3n.testing import Emulator

WEATHER = tool_spec(
    "get_weather", "Get the weather for a city",
    {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
)
ASK_WEATHER = [{"role": "user", "content": "What is the weather in Boston? Use get_weather."}]
HELLO = [{"role": "user", "content": "Hello"}]


def client(emu: Emulator, **kw: Any) -> B3nClient:
    kw.setdefault("max_retries", 2)
    return B3nClient(api_key="sk-test", base_url=emu.base_url, **kw)


def aclient(emu: Emulator, **kw: Any) -> AsyncB3nClient:
    kw.setdefault("max_retries", 2)
    return AsyncB3nClient(api_key="sk-test", base_url=emu.base_url, **kw)


def collect(chunks: Any) -> tuple[str, list[ChatChunk]]:
    items = list(chunks)
    return "".join(c.content for c in items), items


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep backoff real but short so fault tests stay fast."""
    import functools

    from b3n import _transport as transport
    from b3n._retry import RetryPolicy

    monkeypatch.setattr(transport, "RetryPolicy", functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.05))


# ---------------------------------------------------------------- quirks (b3n-api.md §4.2), one named test each


def test_quirk_gemini_missing_model_uses_requested(emulator: Emulator) -> None:
    reply = client(emulator).chat.create("gemini-1.5-flash-latest", HELLO)
    raw = emulator.last_request("chat")
    assert raw is not None
    assert reply.model == "gemini-1.5-flash-latest"


def test_quirk_gemini_empty_model_in_stream_uses_requested(emulator: Emulator) -> None:
    _, chunks = collect(client(emulator).chat.stream("gemini-1.5-pro-latest", HELLO))
    assert chunks[-1].final and chunks[-1].model == "gemini-1.5-pro-latest"


def test_quirk_gemini_trailing_whitespace_stripped(emulator: Emulator) -> None:
    c = client(emulator)
    reply = c.chat.create("gemini-1.5-flash-latest", [{"role": "user", "content": "say 1"}])
    assert reply.content == reply.content.rstrip() and reply.content
    text, _ = collect(c.chat.stream("gemini-1.5-flash-latest", [{"role": "user", "content": "say 1"}]))
    assert text == reply.content


def test_quirk_claude_duplicate_index_choices_merged(emulator: Emulator) -> None:
    reply = client(emulator).chat.create("claude-3-5-sonnet-latest", ASK_WEATHER, tools=[WEATHER], tool_choice="auto")
    raw = reply.raw or {}
    assert len(raw["choices"]) == 2 and {ch["index"] for ch in raw["choices"]} == {0}
    assert [t.name for t in reply.tool_calls] == ["get_weather"]
    assert reply.content  # the text of the second choice is kept
    assert reply.finish_reason == "tool_calls"
    assert reply.tool_calls[0].parsed_arguments()["location"]


def test_quirk_claude_index_less_stream_fragments(emulator: Emulator) -> None:
    c = client(emulator)
    _, chunks = collect(c.chat.stream("claude-3-5-sonnet-latest", ASK_WEATHER, tools=[WEATHER], tool_choice="any"))
    deltas = [d for ch in chunks for d in ch.tool_calls]
    assert deltas and all(d.index == 0 for d in deltas)
    args = "".join(d.arguments for d in deltas)
    assert '"location"' in args
    assert chunks[-1].finish_reason == "tool_calls"


def test_quirk_claude_opus_thinking_becomes_reasoning(emulator: Emulator) -> None:
    reply = client(emulator).chat.create("claude-3-opus-latest", HELLO)
    assert "<thinking>" not in reply.content and reply.reasoning


def test_quirk_gemini_whole_index_less_parallel_calls_with_stop(emulator: Emulator) -> None:
    time_tool = tool_spec("get_time", "Get the local time in a city",
                          {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]})
    msgs = [{"role": "user", "content": "What is the weather and the time in Paris? Use get_weather and get_time."}]
    _, chunks = collect(client(emulator).chat.stream("gemini-1.5-flash-latest", msgs, tools=[WEATHER, time_tool]))
    deltas = [d for ch in chunks for d in ch.tool_calls]
    assert sorted({d.index for d in deltas}) == [0, 1]
    assert {d.name for d in deltas if d.name} == {"get_weather", "get_time"}
    assert chunks[-1].finish_reason == "tool_calls"  # relay said "stop"


def test_quirk_finish_reason_stop_with_tool_calls_non_stream(emulator: Emulator) -> None:
    reply = client(emulator).chat.create("gemini-1.5-flash-latest", ASK_WEATHER, tools=[WEATHER], tool_choice="any")
    assert reply.tool_calls and reply.finish_reason == "tool_calls"


def test_quirk_openai_dated_model_fingerprint_and_reasoning_tokens(emulator: Emulator) -> None:
    reply = client(emulator).chat.create("gpt-4o-mini", HELLO)
    assert reply.model.startswith("gpt-4o-mini-")
    assert reply.usage is not None and reply.usage.reasoning_tokens == 0
    o1 = client(emulator).chat.create("o1-mini", HELLO)
    assert o1.usage is not None and (o1.usage.reasoning_tokens or 0) > 0


def test_quirk_tool_arguments_are_strings_with_unicode(emulator: Emulator) -> None:
    tool = tool_spec("create_customer", "Create a customer",
                     {"type": "object", "properties": {"customer_name": {"type": "string"}}, "required": ["customer_name"]})
    msgs = [{"role": "user", "content": "Create a customer named '你好啊集团'"}]
    reply = client(emulator).chat.create("gpt-4o-mini", msgs, tools=[tool], tool_choice="create_customer")
    assert reply.tool_calls[0].parsed_arguments() == {"customer_name": "你好啊集团"}
    sent = emulator.last_request("chat")
    assert sent is not None and sent.json is not None


# ---------------------------------------------------------------- streaming and usage


def test_stream_with_usage_chunk(emulator: Emulator) -> None:
    text, chunks = collect(client(emulator).chat.stream("gpt-4o-mini", HELLO))
    assert text and sum(1 for c in chunks if c.usage) == 1
    end = chunks[-1]
    assert end.final and end.usage is not None and end.usage.completion_tokens > 0 and end.finish_reason == "stop"
    sent = emulator.last_request("chat")
    assert sent is not None and sent.json is not None and sent.json["stream_options"] == {"include_usage": True}


def test_stream_without_usage_chunk(emulator: Emulator) -> None:
    text, chunks = collect(client(emulator).chat.stream("gpt-4o-mini", HELLO, include_usage=False))
    assert text and chunks[-1].usage is None
    sent = emulator.last_request("chat")
    assert sent is not None and sent.json is not None and "stream_options" not in sent.json


def test_stream_and_invoke_agree(emulator: Emulator) -> None:
    c = client(emulator)
    for model in ("gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "claude-3-opus-latest"):
        text, _ = collect(c.chat.stream(model, HELLO))
        assert text == c.chat.create(model, HELLO).content, model


async def test_async_stream_and_invoke(emulator: Emulator) -> None:
    c = aclient(emulator)
    reply = await c.chat.create("gpt-4o-mini", HELLO)
    text = "".join([ch.content async for ch in c.chat.stream("gpt-4o-mini", HELLO)])
    assert text == reply.content


# ---------------------------------------------------------------- o1 adaptation (the emulator enforces o1's rules)


def test_o1_adaptation_end_to_end(emulator: Emulator) -> None:
    msgs = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "say 1"}]
    c = client(emulator)
    with pytest.warns(UserWarning, match="temperature"):
        reply = c.chat.create("o1-mini", msgs, temperature=0.3, max_tokens=200)
    assert reply.content
    sent = emulator.last_request("chat")
    assert sent is not None and sent.json is not None
    assert [m["role"] for m in sent.json["messages"]] == ["user"]
    assert "max_tokens" not in sent.json and sent.json["max_completion_tokens"] == 200
    assert "temperature" not in sent.json


def test_o1_stream_served_from_one_call(emulator: Emulator) -> None:
    text, chunks = collect(client(emulator).chat.stream("o1-preview", HELLO))
    assert text and chunks[-1].final and chunks[-1].usage is not None
    sent = emulator.last_request("chat")
    assert sent is not None and sent.json is not None and not sent.json.get("stream")
    assert emulator.count("chat") == 1


def test_o1_rules_are_real_on_the_emulator(emulator: Emulator) -> None:
    """Sanity: without our adaptation the emulator refuses what o1 refuses."""
    r = httpx.post(f"{emulator.base_url}/chat/completions", headers={"Authorization": "Bearer sk-test"},
                   json={"model": "o1-mini", "messages": [{"role": "system", "content": "x"},
                                                          {"role": "user", "content": "y"}]})
    assert r.status_code == 400


# ---------------------------------------------------------------- auth


def test_bearer_and_bare_authorization_both_accepted(emulator: Emulator) -> None:
    body = {"model": "gpt-4o-mini", "messages": HELLO}
    for header in ("Bearer sk-test", "sk-test"):
        assert httpx.post(f"{emulator.base_url}/chat/completions", headers={"Authorization": header},
                          json=body).status_code == 200


def test_missing_key_fails_at_first_call_without_request(emulator: Emulator) -> None:
    c = B3nClient(base_url=emulator.base_url)
    with pytest.raises(e.B3nConfigurationError, match="B3N_API_KEY"):
        c.chat.create("gpt-4o-mini", HELLO)
    assert emulator.count("chat") == 0


def test_wrong_key_is_authentication_error() -> None:
    with Emulator(api_key="sk-right") as emu:
        with pytest.raises(e.B3nAuthenticationError) as info:
            B3nClient(api_key="sk-wrong", base_url=emu.base_url, max_retries=3).chat.create("gpt-4o-mini", HELLO)
        assert emu.count("chat") == 1  # never retried
        assert info.value.status_code == 401 and info.value.request_id
        assert "sk-wrong" not in str(info.value)


# ---------------------------------------------------------------- faults: retried and recovered


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("rate_limit", {}),
        ("rate_limit", {"retry_after": 0}),
        ("server_error", {"status": 500}),
        ("server_error", {"status": 502}),
        ("server_error", {"status": 503}),
        ("drop", {}),
    ],
)
def test_retryable_faults_recover(emulator: Emulator, kind: str, params: dict[str, Any]) -> None:
    emulator.inject(kind, times=2, **params)
    reply = client(emulator, max_retries=2).chat.create("gpt-4o-mini", HELLO)
    assert reply.content
    assert emulator.count("chat") == 3


@pytest.mark.parametrize(("kind", "params"), [("rate_limit", {}), ("server_error", {"status": 502}), ("drop", {})])
def test_retryable_faults_recover_before_stream_starts(emulator: Emulator, kind: str, params: dict[str, Any]) -> None:
    emulator.inject(kind, times=1, **params)
    text, _ = collect(client(emulator).chat.stream("gpt-4o-mini", HELLO))
    assert text and emulator.count("chat") == 2


async def test_retryable_faults_recover_async(emulator: Emulator) -> None:
    emulator.inject("server_error", times=2, status=503)
    reply = await aclient(emulator).chat.create("gpt-4o-mini", HELLO)
    assert reply.content and emulator.count("chat") == 3


def test_retry_after_is_honoured(emulator: Emulator) -> None:
    emulator.inject("rate_limit", times=1, retry_after=1)
    started = time.monotonic()
    client(emulator).chat.create("gpt-4o-mini", HELLO)
    assert time.monotonic() - started >= 0.9


def test_exhausted_retries_raise_typed_error_with_details(emulator: Emulator) -> None:
    emulator.inject("rate_limit", times=5)
    with pytest.raises(e.B3nRateLimitError) as info:
        client(emulator, max_retries=2).chat.create("gpt-4o-mini", HELLO)
    assert emulator.count("chat") == 3
    err = info.value
    assert err.status_code == 429 and err.request_id and "max_retries" in err.message


def test_html_5xx_after_retries_is_server_error(emulator: Emulator) -> None:
    emulator.inject("server_error", times=3, status=502)
    with pytest.raises(e.B3nServerError) as info:
        client(emulator, max_retries=2).chat.create("gpt-4o-mini", HELLO)
    assert info.value.status_code == 502 and "HTML" in info.value.message


# ---------------------------------------------------------------- faults: never retried


@pytest.mark.parametrize(
    ("kind", "cls", "status"),
    [
        ("quota", e.B3nInsufficientQuotaError, 403),
        ("auth", e.B3nAuthenticationError, 401),
        ("model_unavailable", e.B3nModelNotAvailableError, 503),
    ],
)
def test_non_retryable_faults(emulator: Emulator, kind: str, cls: type[e.B3nError], status: int) -> None:
    emulator.inject(kind, times=3)
    with pytest.raises(cls) as info:
        client(emulator, max_retries=3).chat.create("gpt-4o-mini", HELLO)
    assert emulator.count("chat") == 1
    assert info.value.status_code == status and info.value.request_id


def test_unknown_model_is_model_not_available(emulator: Emulator) -> None:
    with pytest.raises(e.B3nModelNotAvailableError, match="b3n models"):
        client(emulator).chat.create("unknown-model-x", HELLO)
    assert emulator.count("chat") == 1


def test_bad_json_200_is_response_error(emulator: Emulator) -> None:
    emulator.inject("bad_json")
    with pytest.raises(e.B3nResponseError):
        client(emulator).chat.create("gpt-4o-mini", HELLO)
    assert emulator.count("chat") == 1


def test_empty_choices_is_response_error(emulator: Emulator) -> None:
    emulator.inject("empty_choices")
    with pytest.raises(e.B3nResponseError, match="no choices"):
        client(emulator).chat.create("gpt-4o-mini", HELLO)


def test_stream_cut_after_content_raises_interrupted_with_partial(emulator: Emulator) -> None:
    emulator.reply_chunks = 20
    emulator.inject("stream_cut", after=4)
    received: list[str] = []
    with pytest.raises(e.B3nStreamInterruptedError) as info:
        for chunk in client(emulator).chat.stream("gpt-4o-mini", HELLO):
            received.append(chunk.content)
    assert emulator.count("chat") == 1  # never retried once content flowed
    partial = info.value.partial
    assert partial is not None and partial.content == "".join(received) and partial.content


async def test_stream_cut_async(emulator: Emulator) -> None:
    emulator.reply_chunks = 20
    emulator.inject("stream_cut", after=4)
    with pytest.raises(e.B3nStreamInterruptedError) as info:
        async for _ in aclient(emulator).chat.stream("gpt-4o-mini", HELLO):
            pass
    assert info.value.partial.content and emulator.count("chat") == 1


def test_malformed_chunk_is_skipped_with_warning(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    emulator.reply_chunks = 10
    emulator.inject("malformed_chunk", after=3)
    text, chunks = collect(client(emulator).chat.stream("gpt-4o-mini", HELLO))
    assert len(text.split()) == 10 and chunks[-1].final
    assert any("malformed" in r.message for r in caplog.records)


# ---------------------------------------------------------------- timeouts and cancellation


def test_slow_first_byte_times_out_within_timeout(emulator: Emulator) -> None:
    emulator.inject("slow_first_byte", times=1, delay=5)
    started = time.monotonic()
    with pytest.raises(e.B3nTimeoutError):
        client(emulator, timeout=0.5, max_retries=0).chat.create("gpt-4o-mini", HELLO)
    assert time.monotonic() - started < 1.5


def test_slow_first_byte_is_retried_then_recovers(emulator: Emulator) -> None:
    emulator.inject("slow_first_byte", times=1, delay=3)
    reply = client(emulator, timeout=0.5, max_retries=1).chat.create("gpt-4o-mini", HELLO)
    assert reply.content and emulator.count("chat") == 2


def test_stalled_stream_raises_within_idle_timeout(emulator: Emulator) -> None:
    emulator.reply_chunks = 10
    emulator.inject("stall", after=3, delay=5)
    started = time.monotonic()
    with pytest.raises(B3nStreamTimeoutError) as info:
        collect(client(emulator, timeout=10, stream_idle_timeout=0.5).chat.stream("gpt-4o-mini", HELLO))
    assert time.monotonic() - started < 1.5
    assert info.value.partial.content and isinstance(info.value, TimeoutError)


async def test_cancelling_ainvoke_closes_the_connection(emulator: Emulator) -> None:
    emulator.latency = 3
    c = aclient(emulator)
    task = asyncio.create_task(c.chat.create("gpt-4o-mini", HELLO))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 3
    while emulator.disconnects < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert emulator.disconnects >= 1
    emulator.latency = 0
    assert (await c.chat.create("gpt-4o-mini", HELLO)).content  # client still usable


async def test_cancelling_astream_closes_the_connection(emulator: Emulator) -> None:
    emulator.reply_chunks = 10
    emulator.inject("stall", after=2, delay=3)
    c = aclient(emulator)

    async def consume() -> None:
        async for _ in c.chat.stream("gpt-4o-mini", HELLO):
            pass

    task = asyncio.create_task(consume())
    # cancel inside the stall: once the relay has the request (a loaded machine may still be connecting at 0.3 s)
    arrived = time.monotonic() + 10
    while emulator.count("chat") < 1 and time.monotonic() < arrived:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 4
    while emulator.disconnects < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert emulator.disconnects >= 1


def test_connection_refused_is_connection_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = B3nClient(api_key="sk-test", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1)
    with pytest.raises(e.B3nConnectionError, match="Could not talk to B3n"):
        c.chat.create("gpt-4o-mini", HELLO)


# ---------------------------------------------------------------- pooling


def test_connections_are_reused_across_clients(emulator: Emulator) -> None:
    a, b = client(emulator), client(emulator)
    assert a.transport.client is b.transport.client
    for _ in range(5):
        a.chat.create("gpt-4o-mini", HELLO)
        b.chat.create("gpt-4o-mini", HELLO)
    assert emulator.count("chat") == 10


def test_user_supplied_http_client_is_used(emulator: Emulator) -> None:
    seen: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.path)]})
    B3nClient(api_key="sk-test", base_url=emulator.base_url, http_client=http).chat.create("gpt-4o-mini", HELLO)
    assert seen == ["/v1/chat/completions"]


def test_default_headers_are_sent(emulator: Emulator) -> None:
    client(emulator, default_headers={"X-Team": "rag"}).chat.create("gpt-4o-mini", HELLO)
    sent = emulator.last_request("chat")
    assert sent is not None and sent.headers.get("x-team") == "rag"
    assert sent.headers["authorization"] == "Bearer sk-test"
