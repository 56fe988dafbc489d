"""The core's Claude-native route (``api_format``) against the emulator's new-api profile and hostile servers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n._errors import (
    B3nBadRequestError,
    B3nInvalidRequestError,
    B3nNotFoundError,
    B3nStreamInterruptedError,
)
from b3n._probe import probe
from b3n.testing import Emulator
from tests.conftest import NATIVE_KEY as KEY
from tests.hostile import Handler, HostileServer
from tests.native_inputs import PDF_CANARY, b64, pdf, png

CLAUDE = "claude-3-5-sonnet-latest"
WEATHER: Any = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a given city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture
def emu(native_emulator: Emulator) -> Emulator:
    return native_emulator


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("B3N_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def client(emu: Emulator) -> B3nClient:
    return B3nClient(api_key=KEY, base_url=emu.base_url)


def test_native_create_sends_messages_with_x_api_key(client: B3nClient, emu: Emulator) -> None:
    reply = client.chat.create(CLAUDE, [{"role": "system", "content": "Be terse."},
                                        {"role": "user", "content": "say Grüße 🌍"}], api_format="anthropic")
    assert reply.content == "Grüße 🌍" and reply.api_format == "anthropic"
    assert reply.usage is not None and reply.usage.prompt_tokens > 0 and reply.cost is not None
    sent = emu.last_request("messages")
    assert sent is not None and emu.count("chat") == 0
    assert sent.headers["x-api-key"] == KEY and sent.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in sent.headers
    assert sent.json["system"] == [{"type": "text", "text": "Be terse."}] and sent.json["max_tokens"] > 0


def test_auto_uses_openai_until_the_probe_confirms_then_keeps_the_route(emu: Emulator, cache_dir: Path) -> None:
    ask = [{"role": "user", "content": "say 1"}]
    before = B3nClient(api_key=KEY, base_url=emu.base_url)
    assert before.chat.create(CLAUDE, ask).api_format == "openai"
    report = probe(B3nClient(api_key=KEY, base_url=emu.base_url), [CLAUDE])
    assert report.families["claude"]["native_messages"] is True
    emu.reset()
    after = B3nClient(api_key=KEY, base_url=emu.base_url)
    assert after.chat.create(CLAUDE, ask).api_format == "anthropic"
    assert before.chat.create(CLAUDE, ask).api_format == "openai"  # a client never switches mid-conversation
    (cache_dir / "relay-probe.json").unlink()
    assert after.chat.create(CLAUDE, ask).api_format == "anthropic"
    assert emu.count("messages") == 2 and emu.count("chat") == 1


def test_probe_records_no_native_route_on_one_api(cache_dir: Path) -> None:
    with Emulator(relay="one-api") as other:
        report = probe(B3nClient(api_key=KEY, base_url=other.base_url), [CLAUDE, "gemini-1.5-flash-latest"])
        assert report.families["claude"]["native_messages"] is False
        assert report.families["gemini"]["native_generate_content"] is False
        again = B3nClient(api_key=KEY, base_url=other.base_url).chat.create(CLAUDE, [{"role": "user",
                                                                                       "content": "say 1"}])
    assert again.api_format == "openai" and "native_messages" in report.table()


def test_probe_finds_a_served_gemini_native_route(cache_dir: Path) -> None:
    def script(h: Handler, n: int) -> None:
        if h.path.startswith("/v1beta/models/gemini-1.5-flash-latest:generateContent"):
            body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "1"}]}}],
                    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}}
            h.reply(200, json.dumps(body).encode())
        else:
            h.reply(404, b'{"error": {"message": "Invalid URL", "type": "invalid_request_error"}}')

    with HostileServer(script) as srv:
        prober = B3nClient(api_key=KEY, base_url=srv.url + "/v1", max_retries=0)
        from b3n._probe import ProbeReport, _Prober

        report = ProbeReport(base_url=srv.url + "/v1")
        assert _Prober(prober, report).native_gemini("gemini-1.5-flash-latest") is True
        assert report.prompt_tokens == 3 and srv.count(":generateContent") == 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"candidates": [], "usageMetadata": {"promptTokenCount": 1e400, "candidatesTokenCount": "\xc2\xb2"}}',
        b"[" * 5000 + b"]" * 5000,
    ],
    ids=["absurd-counts", "deep-nesting"],
)
def test_probing_a_hostile_gemini_native_route_never_crashes(cache_dir: Path, body: bytes) -> None:
    def script(h: Handler, n: int) -> None:
        h.reply(200, body)

    with HostileServer(script) as srv:
        prober = B3nClient(api_key=KEY, base_url=srv.url + "/v1", max_retries=0)
        from b3n._probe import ProbeReport, _Prober

        report = ProbeReport(base_url=srv.url + "/v1")
        served = _Prober(prober, report).native_gemini("gemini-1.5-flash-latest")
        assert served is (body.startswith(b"{"))
        assert report.prompt_tokens == 0 and srv.count(":generateContent") == 1


def test_native_stream_delivers_text_usage_and_route(client: B3nClient, emu: Emulator) -> None:
    chunks = list(client.chat.stream(CLAUDE, [{"role": "user", "content": "say one two three"}],
                                     api_format="anthropic"))
    assert "".join(c.content for c in chunks) == "one two three"
    assert len([c for c in chunks if c.content]) > 1
    final = chunks[-1]
    assert final.final and final.api_format == "anthropic" and final.finish_reason == "stop"
    assert final.usage is not None and final.usage.completion_tokens > 0 and final.cost is not None
    assert emu.last_request("messages").json["stream"] is True  # type: ignore[union-attr]


def test_thinking_tool_loop_keeps_signatures(client: B3nClient, emu: Emulator) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather in Zürich?"}]
    first = client.chat.create(CLAUDE, messages, tools=[WEATHER], thinking_budget=1024, api_format="anthropic")
    assert first.finish_reason == "tool_calls" and first.thinking_blocks and first.reasoning
    call = first.tool_calls[0]
    assert call.parsed_arguments() == {"city": "Zürich"}
    messages += [{"role": "assistant", "content": first.thinking_blocks, "tool_calls": [call.to_wire()]},
                 {"role": "tool", "tool_call_id": call.id, "content": "Föhn, 19 °C"}]
    chunks = list(client.chat.stream(CLAUDE, messages, tools=[WEATHER], thinking_budget=1024,
                                     api_format="anthropic"))
    assert "Föhn, 19 °C" in "".join(c.content for c in chunks)
    sent = emu.last_request("messages").json  # type: ignore[union-attr]
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert sent["messages"][1]["content"][0] == first.thinking_blocks[0]
    assert chunks[-1].thinking_blocks and chunks[-1].thinking_blocks[0]["signature"]

    tampered = [dict(messages[1], content=[{**first.thinking_blocks[0], "thinking": "edited"}]), messages[2]]
    with pytest.raises(B3nBadRequestError, match="Invalid `signature`"):
        client.chat.create(CLAUDE, [messages[0], *tampered], tools=[WEATHER], thinking_budget=1024,
                           api_format="anthropic")


def test_cache_control_reports_writes_then_reads(client: B3nClient) -> None:
    system = {"role": "system", "content": [{"type": "text", "text": "Handbook section. " * 300,
                                             "cache_control": {"type": "ephemeral"}}]}
    ask = [system, {"role": "user", "content": "say 1"}]
    first = client.chat.create(CLAUDE, ask, api_format="anthropic")
    second = client.chat.create(CLAUDE, ask, api_format="anthropic")
    assert first.usage and second.usage
    assert first.usage.cache_creation_tokens and not first.usage.cached_tokens
    assert second.usage.cached_tokens == first.usage.cache_creation_tokens
    assert second.usage.prompt_tokens == first.usage.prompt_tokens  # the whole prompt, cached part included


def test_pdf_and_image_parts_become_document_and_image_blocks(client: B3nClient, emu: Emulator) -> None:
    parts = [{"type": "file", "file": {"filename": "q3.pdf", "file_data": f"data:application/pdf;base64,{b64(pdf())}"}},
             {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(png())}"}},
             {"type": "text", "text": "Summarize this document:"}]
    reply = client.chat.create(CLAUDE, [{"role": "user", "content": parts}], api_format="anthropic")
    assert PDF_CANARY in reply.content
    blocks = emu.last_request("messages").json["messages"][0]["content"]  # type: ignore[union-attr]
    assert [b["type"] for b in blocks] == ["document", "image", "text"]
    assert blocks[0]["title"] == "q3.pdf" and blocks[1]["source"]["media_type"] == "image/png"


def test_image_tool_results_need_the_native_route(client: B3nClient, emu: Emulator) -> None:
    call = {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
    history = [{"role": "user", "content": "Show me the weather map of Oslo."},
               {"role": "assistant", "content": None, "tool_calls": [call]},
               {"role": "tool", "tool_call_id": "toolu_1",
                "content": [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(png())}"}}]}]
    reply = client.chat.create(CLAUDE, history, tools=[WEATHER], api_format="anthropic")
    assert reply.content and emu.count("messages") == 1
    result = emu.last_request("messages").json["messages"][2]["content"][0]  # type: ignore[union-attr]
    assert result["type"] == "tool_result" and result["content"][0]["type"] == "image"
    with pytest.raises(B3nInvalidRequestError, match="api_format='anthropic'"):
        client.chat.create(CLAUDE, history, tools=[WEATHER], api_format="openai")
    assert emu.count("chat") == 0


def test_refusals_before_sending(client: B3nClient, emu: Emulator) -> None:
    ask = [{"role": "user", "content": "hi"}]
    with pytest.raises(B3nInvalidRequestError, match="does not speak"):
        client.chat.create("gpt-4o-mini", ask, api_format="anthropic")
    with pytest.raises(B3nInvalidRequestError, match="JSON mode"):
        client.chat.create(CLAUDE, ask, response_format={"type": "json_object"}, api_format="anthropic")
    with pytest.raises(B3nInvalidRequestError, match="api_format"):
        client.chat.create(CLAUDE, ask, api_format="claude")
    with pytest.raises(B3nInvalidRequestError, match="at least 1024"):
        client.chat.create(CLAUDE, ask, thinking_budget=100, api_format="anthropic")
    assert emu.total_requests == 0


def test_relay_without_the_route_is_a_clear_404(emulator: Emulator) -> None:
    plain = B3nClient(api_key=KEY, base_url=emulator.base_url, max_retries=0)
    with pytest.raises(B3nNotFoundError, match="does not serve Claude's native route") as caught:
        plain.chat.create(CLAUDE, [{"role": "user", "content": "hi"}], api_format="anthropic")
    assert caught.value.status_code == 404 and emulator.count("messages") == 1


def test_anthropic_400_and_retried_429(client: B3nClient, emu: Emulator) -> None:
    forged = [{"role": "user", "content": "hi"},
              {"role": "assistant", "content": [{"type": "thinking", "thinking": "x", "signature": ""}]},
              {"role": "user", "content": "again"}]
    with pytest.raises(B3nBadRequestError, match="signature: Field required") as caught:
        client.chat.create(CLAUDE, forged, api_format="anthropic")
    assert caught.value.error_type == "invalid_request_error"
    emu.reset()
    emu.inject("rate_limit", route="messages", retry_after=0)
    assert client.chat.create(CLAUDE, [{"role": "user", "content": "say 1"}], api_format="anthropic").content == "1"
    assert emu.count("messages") == 2


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


_START = {"type": "message_start", "message": {"id": "msg_1", "model": CLAUDE, "content": [],
                                               "usage": {"input_tokens": 5, "output_tokens": 1}}}
_TEXT = [{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
         {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "partial "}}]


def test_error_event_midstream_is_typed_and_not_repeated() -> None:
    def script(h: Handler, n: int) -> None:
        h.start()
        h.send(_sse(_START, *_TEXT))
        h.send(_sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}), pause=0.2)

    with HostileServer(script) as srv:
        client = B3nClient(api_key=KEY, base_url=srv.url + "/v1", max_retries=2)
        got: list[str] = []
        with pytest.raises(B3nStreamInterruptedError, match="529: Overloaded") as caught:
            for chunk in client.chat.stream(CLAUDE, [{"role": "user", "content": "hi"}], api_format="anthropic"):
                got.append(chunk.content)
    assert caught.value.status_code == 529
    assert caught.value.partial is not None and caught.value.partial.content == "partial "
    assert got == ["partial "] and srv.count("/v1/messages") == 1  # content had arrived: never repeated


def test_stream_cut_before_message_stop_is_interrupted() -> None:
    def script(h: Handler, n: int) -> None:
        h.start()
        h.send(_sse(_START, *_TEXT))
        h.hang_up()

    with HostileServer(script) as srv:
        client = B3nClient(api_key=KEY, base_url=srv.url + "/v1")
        with pytest.raises(B3nStreamInterruptedError) as caught:
            list(client.chat.stream(CLAUDE, [{"role": "user", "content": "hi"}], api_format="anthropic"))
    assert caught.value.partial is not None and caught.value.partial.content == "partial "
    assert srv.count("/v1/messages") == 1


def test_async_twin(emu: Emulator) -> None:
    async def main() -> tuple[str, str]:
        chat = AsyncB3nClient(api_key=KEY, base_url=emu.base_url).chat
        reply = await chat.create(CLAUDE, [{"role": "user", "content": "say async"}], api_format="anthropic")
        streamed = "".join([c.content async for c in chat.stream(CLAUDE, [{"role": "user", "content": "say ok"}],
                                                                  api_format="anthropic")])
        return reply.content, streamed

    assert asyncio.run(main()) == ("async", "ok")
    assert emu.count("messages") == 2
