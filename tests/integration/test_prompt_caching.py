"""Claude prompt caching: ``cache_control`` on text blocks, system messages and tools reaches Claude (the relay
answers with cache writes, then reads, in usage, priced apart); every other family gets the request without the
markers (the emulator, like OpenAI's strict schema, answers 400 to them), silently."""

from __future__ import annotations

import warnings
from decimal import ROUND_HALF_UP, Decimal

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from b3n.testing import Emulator
from langchain_b3n import ChatB3n

EPHEMERAL = {"type": "ephemeral"}
LONG_SYSTEM = "You are a careful assistant who answers in one short sentence. " * 40
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
           "cache_control": EPHEMERAL}


def _system() -> SystemMessage:
    return SystemMessage(content=[{"type": "text", "text": LONG_SYSTEM, "cache_control": EPHEMERAL}])


def test_claude_keeps_the_markers_and_reports_cache_writes_then_reads(emulator: Emulator, base_url: str,
                                                                      api_key: str) -> None:
    llm = ChatB3n(model="claude-3-5-sonnet-latest", api_key=api_key, base_url=base_url).bind_tools([WEATHER])
    first = llm.invoke([_system(), HumanMessage("say 1")])
    sent = emulator.last_request().json
    assert sent["messages"][0]["content"][0]["cache_control"] == EPHEMERAL
    assert sent["tools"][0]["cache_control"] == EPHEMERAL
    second = llm.invoke([_system(), HumanMessage("say 2")])
    written = first.usage_metadata["input_token_details"]["cache_creation"]
    read = second.usage_metadata["input_token_details"]["cache_read"]
    assert written > 100 and read == written
    assert first.usage_metadata["input_token_details"]["cache_read"] == 0
    assert second.usage_metadata["input_token_details"]["cache_creation"] == 0
    # priced apart: writes at 1.25, reads at 0.1 of the prompt price (served ratios: 2 and completion 5)
    for message, cached, creation in ((first, 0, written), (second, read, 0)):
        usage = emulator.billing.calls[0 if message is first else 1].usage
        plain = usage["prompt_tokens"] - cached - creation
        value = (Decimal(plain) + Decimal(cached) * Decimal("0.1") + Decimal(creation) * Decimal("1.25")
                 + Decimal(usage["completion_tokens"]) * 5) * 2
        expected = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert message.response_metadata["cost"]["quota"] == expected
        assert message.response_metadata["cost"]["cached_tokens"] == cached


def test_claude_stream_reports_the_cache_read_on_its_last_chunk(emulator: Emulator, base_url: str,
                                                                 api_key: str) -> None:
    llm = ChatB3n(model="claude-3-5-haiku-latest", api_key=api_key, base_url=base_url)
    llm.invoke([_system(), HumanMessage("say 1")])
    full = None
    for chunk in llm.stream([_system(), HumanMessage("say 2")]):
        full = chunk if full is None else full + chunk
    assert full is not None and full.usage_metadata["input_token_details"]["cache_read"] > 100


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gemini-1.5-flash-latest", "o3"])
def test_other_families_drop_the_markers_silently(model: str, emulator: Emulator, base_url: str,
                                                  api_key: str) -> None:
    llm = ChatB3n(model=model, api_key=api_key, base_url=base_url).bind_tools([WEATHER])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        llm.invoke([_system(), HumanMessage("say 1")])
    sent = emulator.last_request().json
    assert emulator.last_request().status == 200
    assert "cache_control" not in str(sent)


def test_llamaindex_cache_point_becomes_cache_control(emulator: Emulator, base_url: str, api_key: str) -> None:
    from llama_index.core.llms import CacheControl, CachePoint, ChatMessage, TextBlock

    from llama_index_b3n import B3n

    system = ChatMessage(role="system", blocks=[TextBlock(text=LONG_SYSTEM),
                                                CachePoint(cache_control=CacheControl(type="ephemeral"))])
    llm = B3n(model="claude-3-5-sonnet-latest", api_key=api_key, api_base=base_url)
    first = llm.chat([system, ChatMessage(role="user", content="say 1")])
    part = emulator.last_request().json["messages"][0]["content"][0]
    assert part["text"] == LONG_SYSTEM and part["cache_control"]["type"] == "ephemeral"
    second = llm.chat([system, ChatMessage(role="user", content="say 2")])
    assert first.additional_kwargs["cache_creation_tokens"] > 100
    assert second.additional_kwargs["cached_tokens"] == first.additional_kwargs["cache_creation_tokens"]
    B3n(model="gpt-4o-mini", api_key=api_key, api_base=base_url).chat([system, ChatMessage(role="user", content="hi")])
    assert "cache_control" not in str(emulator.last_request().json)
