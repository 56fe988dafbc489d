"""The emulator's Claude-native ``/v1/messages`` with the official ``anthropic`` SDK as the client.

The SDK is a client nobody here wrote: if the emulator's events, blocks or errors were off, its parser and its
typed errors would say so.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import httpx
import pytest

from b3n.testing import Emulator
from tests.conftest import NATIVE_KEY as KEY
from tests.native_inputs import PDF_CANARY, b64, pdf, png

MODEL = "claude-3-5-sonnet-latest"
WEATHER: Any = {
    "name": "get_weather",
    "description": "Get the current weather in a given city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
THINKING: Any = {"type": "enabled", "budget_tokens": 1024}


@pytest.fixture
def emu(native_emulator: Emulator) -> Emulator:
    return native_emulator


@pytest.fixture
def claude(emu: Emulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=emu.origin, max_retries=0)


def _weather_turn(claude: anthropic.Anthropic) -> tuple[list[Any], Any]:
    question: Any = {"role": "user", "content": "What is the weather in Zürich today?"}
    first = claude.messages.create(model=MODEL, max_tokens=2048, thinking=THINKING, tools=[WEATHER],
                                   messages=[question])
    return [question], first


def test_create_answers_text_with_usage(claude: anthropic.Anthropic, emu: Emulator) -> None:
    reply = claude.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "say 1"}])
    assert [b.type for b in reply.content] == ["text"]
    assert reply.content[0].text == "1"
    assert reply.stop_reason == "end_turn" and reply.id.startswith("msg_")
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0
    sent = emu.last_request("messages")
    assert sent is not None and KEY in sent.headers["authorization"] and sent.headers["anthropic-version"]
    assert emu.count("messages") == 1 and emu.count("chat") == 0


def test_x_api_key_auth_works_and_a_wrong_key_is_the_relays_401(emu: Emulator) -> None:
    body = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "say ok"}]}
    with httpx.Client() as http:
        good = http.post(emu.origin + "/v1/messages", json=body,
                         headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"})
        bad = http.post(emu.origin + "/v1/messages", json=body,
                        headers={"x-api-key": "sk-wrong", "anthropic-version": "2023-06-01"})
    assert good.status_code == 200 and good.json()["content"][0]["text"] == "ok"
    assert bad.status_code == 401 and "error" in bad.json()
    wrong = anthropic.Anthropic(api_key="sk-wrong", base_url=emu.origin, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        wrong.messages.create(model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}])


def test_stream_sends_every_event_kind_in_order(claude: anthropic.Anthropic) -> None:
    messages, first = _weather_turn(claude)
    messages += [{"role": "assistant", "content": first.content},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": first.content[-1].id,
                                               "content": "Sunny, 21 °C"}]}]
    kinds: list[str] = []
    deltas: set[str] = set()
    with claude.messages.stream(model=MODEL, max_tokens=2048, thinking=THINKING, tools=[WEATHER],
                                messages=messages) as stream:
        for event in stream:
            kinds.append(event.type)
            if event.type == "content_block_delta":
                deltas.add(event.delta.type)
        final = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert {"content_block_start", "content_block_stop", "message_delta"} <= set(kinds)
    assert {"thinking_delta", "signature_delta", "text_delta"} <= deltas
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert "Sunny, 21 °C" in final.content[1].text
    assert final.usage.output_tokens > 0 and final.stop_reason == "end_turn"


def test_streamed_tool_use_arrives_as_input_json_deltas(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(model=MODEL, max_tokens=256, tools=[WEATHER],
                                messages=[{"role": "user", "content": "What is the weather in Paris?"}]) as stream:
        fragments = [e.delta.partial_json for e in stream
                     if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
        final = stream.get_final_message()
    tool = final.content[-1]
    assert tool.type == "tool_use" and tool.input == {"city": "Paris"} and final.stop_reason == "tool_use"
    assert len([f for f in fragments if f]) > 1


def test_thinking_signature_round_trip_and_its_checks(claude: anthropic.Anthropic) -> None:
    messages, first = _weather_turn(claude)
    assert [b.type for b in first.content] == ["thinking", "tool_use"]
    thinking = first.content[0].model_dump()
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": first.content[1].id,
                                           "content": "Cloudy"}]}
    ok = claude.messages.create(model=MODEL, max_tokens=2048, thinking=THINKING, tools=[WEATHER],
                                messages=[*messages, {"role": "assistant", "content": first.content}, result])
    assert "Cloudy" in ok.content[-1].text

    dropped = {"role": "assistant", "content": [first.content[1]]}
    with pytest.raises(anthropic.BadRequestError, match="must start with a thinking block"):
        claude.messages.create(model=MODEL, max_tokens=2048, thinking=THINKING, tools=[WEATHER],
                               messages=[*messages, dropped, result])
    for forged in ({**thinking, "signature": thinking["signature"][:-6] + "AAAAA="},
                   {**thinking, "thinking": thinking["thinking"] + " (edited)"}):
        turn = {"role": "assistant", "content": [forged, first.content[1]]}
        with pytest.raises(anthropic.BadRequestError, match="Invalid `signature`"):
            claude.messages.create(model=MODEL, max_tokens=2048, thinking=THINKING, tools=[WEATHER],
                                   messages=[*messages, turn, result])


def test_anthropic_shaped_400s_for_bad_requests(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.create(model=MODEL, max_tokens=512, thinking={"type": "enabled", "budget_tokens": 100},
                               messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["type"] == "error"  # type: ignore[index]
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "budget_tokens" in caught.value.message
    with pytest.raises(anthropic.BadRequestError, match="without `tool_result`"):
        claude.messages.create(model=MODEL, max_tokens=64, tools=[WEATHER], messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                                               "input": {"city": "Oslo"}}]},
            {"role": "user", "content": "and?"}])
    many = [{"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4 blocks with cache_control"):
        claude.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": many}])


def test_cache_control_writes_then_reads_the_prefix(claude: anthropic.Anthropic) -> None:
    system: Any = [{"type": "text", "text": "You answer questions about a long handbook. " * 100,
                    "cache_control": {"type": "ephemeral"}}]
    ask: Any = [{"role": "user", "content": "say 1"}]
    first = claude.messages.create(model=MODEL, max_tokens=32, system=system, messages=ask)
    second = claude.messages.create(model=MODEL, max_tokens=32, system=system, messages=ask)
    assert first.usage.cache_creation_input_tokens and not first.usage.cache_read_input_tokens
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert not second.usage.cache_creation_input_tokens
    assert second.usage.input_tokens < second.usage.cache_read_input_tokens


def test_pdf_document_and_image_blocks_are_read(claude: anthropic.Anthropic) -> None:
    doc = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(pdf())}}
    reply = claude.messages.create(model=MODEL, max_tokens=128, messages=[
        {"role": "user", "content": [doc, {"type": "text", "text": "Summarize this document:"}]}])
    assert PDF_CANARY in reply.content[0].text
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64(png())}}
    seen = claude.messages.create(model=MODEL, max_tokens=128, messages=[
        {"role": "user", "content": [image, {"type": "text", "text": "What is in this image?"}]}])
    assert "image/png" in seen.content[0].text
    not_pdf = {**doc, "source": {**doc["source"], "data": b64(b"plain text, not a PDF")}}  # type: ignore[dict-item]
    with pytest.raises(anthropic.BadRequestError, match="PDF specified was not valid"):
        claude.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": [not_pdf]}])


def test_count_tokens_only_where_served(claude: anthropic.Anthropic, emu: Emulator) -> None:
    ask: Any = [{"role": "user", "content": "How many tokens is this question?"}]
    with pytest.raises(anthropic.NotFoundError):
        claude.messages.count_tokens(model=MODEL, messages=ask)
    emu.native_routes.add("count_tokens")
    counted = claude.messages.count_tokens(model=MODEL, messages=ask)
    billed = claude.messages.create(model=MODEL, max_tokens=32, messages=ask)
    assert counted.input_tokens == billed.usage.input_tokens > 0


@pytest.mark.parametrize("relay", ["one-api", "docs", "new-api-2412"])
def test_relays_without_the_route_answer_404(relay: str) -> None:
    with Emulator(relay=relay) as other:
        client = anthropic.Anthropic(api_key=KEY, base_url=other.origin, max_retries=0)
        with pytest.raises(anthropic.NotFoundError):
            client.messages.create(model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}])
        assert other.count("messages") == 1


def test_async_client_streams_text(emu: Emulator) -> None:
    async def main() -> str:
        client = anthropic.AsyncAnthropic(api_key=KEY, base_url=emu.origin, max_retries=0)
        async with client.messages.stream(model=MODEL, max_tokens=64,
                                          messages=[{"role": "user", "content": "say Grüße aus Köln"}]) as stream:
            return "".join([text async for text in stream.text_stream])

    assert asyncio.run(main()) == "Grüße aus Köln"


def test_raw_stream_is_anthropic_sse_without_done(emu: Emulator) -> None:
    body = {"model": MODEL, "max_tokens": 16, "stream": True, "messages": [{"role": "user", "content": "say 1"}]}
    with httpx.Client() as http:
        reply = http.post(emu.origin + "/v1/messages", json=body,
                          headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"})
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.text.startswith("event: message_start\ndata: {")
    assert "event: ping" in reply.text and "[DONE]" not in reply.text
