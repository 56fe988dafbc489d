"""Scripted replies and the prose-unless-forced model, over HTTP with the official ``openai`` SDK."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai import OpenAI

from b3n.testing import Emulator, ErrorReply, ToolCall
from tests.framework_inputs import function_tool

KEY = "sk-script-test"
WEATHER: Any = function_tool("get_weather", "Get the current weather in a city", {"city": {"type": "string"}}, "city")
ASK: Any = [{"role": "user", "content": "What is the weather in Paris? Use get_weather."}]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


def _client(emu: Emulator) -> OpenAI:
    return OpenAI(base_url=emu.base_url, api_key=KEY, max_retries=0)


def _stream(client: OpenAI, **kwargs: Any) -> tuple[str, list[tuple[str, str]]]:
    """Streamed text and the tool calls (name, arguments) assembled from the deltas."""
    calls: dict[int, list[str]]
    text, calls = "", {}
    for chunk in client.chat.completions.create(stream=True, **kwargs):
        for choice in chunk.choices:
            text += choice.delta.content or ""
            for delta in choice.delta.tool_calls or []:
                slot = calls.setdefault(delta.index if delta.index is not None else 0, ["", ""])
                if delta.function and delta.function.name:
                    slot[0] = delta.function.name
                if delta.function and delta.function.arguments:
                    slot[1] += delta.function.arguments
    return text, [(name, args) for name, args in calls.values()]


def test_script_is_fifo_across_plain_and_streamed_requests(emu: Emulator) -> None:
    client = _client(emu)
    emu.script("first answer", ToolCall("get_weather", {"city": 42}), "third – ünïcode ✓",
               ToolCall("get_weather", '{"city": "Par'))
    assert emu.scripted == 4
    one = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, tools=[WEATHER])
    assert one.choices[0].message.content == "first answer" and not one.choices[0].message.tool_calls
    text, calls = _stream(client, model="gpt-4o-mini", messages=ASK, tools=[WEATHER])
    assert text == "" and calls == [("get_weather", '{"city":42}')]  # the wrong type, as scripted
    three = client.chat.completions.create(model="gpt-4o-mini", messages=ASK)
    assert three.choices[0].message.content == "third – ünïcode ✓"
    four = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, tools=[WEATHER])
    call = four.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city": "Par')
    assert four.choices[0].finish_reason == "tool_calls"
    with pytest.raises(json.JSONDecodeError):
        json.loads(call.function.arguments)
    assert emu.scripted == 0
    # the queue is empty: the scripted model answers the prompt again (a schema-valid call)
    five = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, tools=[WEATHER])
    args = json.loads(five.choices[0].message.tool_calls[0].function.arguments)
    assert isinstance(args["city"], str)
    assert emu.count("chat") == 5


def test_streamed_invalid_json_arguments_arrive_verbatim(emu: Emulator) -> None:
    client = _client(emu)
    emu.script([ToolCall("get_weather", "{not json"), ToolCall("get_weather", {"city": None, "extra": [1]})])
    _, calls = _stream(client, model="gpt-4o-mini", messages=ASK, tools=[WEATHER])
    assert calls == [("get_weather", "{not json"), ("get_weather", '{"city":null,"extra":[1]}')]


def test_scripted_errors_status_body_and_headers(emu: Emulator) -> None:
    client = _client(emu)
    emu.script(ErrorReply(503, "upstream overloaded"),
               ErrorReply(429, {"error": {"message": "slow down", "type": "rate", "code": "x"}},
                          headers={"Retry-After": "7"}),
               ErrorReply(500, b"<html>bad gateway</html>"))
    with pytest.raises(openai.InternalServerError) as first:
        client.chat.completions.create(model="gpt-4o-mini", messages=ASK)
    assert first.value.status_code == 503 and "upstream overloaded" in first.value.message
    with pytest.raises(openai.RateLimitError) as second:
        client.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True)
    assert second.value.response.headers["retry-after"] == "7"
    assert second.value.body == {"message": "slow down", "type": "rate", "code": "x"}
    with pytest.raises(openai.InternalServerError) as third:
        client.chat.completions.create(model="gpt-4o-mini", messages=ASK)
    assert third.value.response.text == "<html>bad gateway</html>"
    assert emu.scripted == 0 and emu.count("chat") == 3


def test_refused_request_leaves_the_script_queued(emu: Emulator) -> None:
    client = _client(emu)
    emu.script("kept")
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "wizard", "content": "hi"}])  # type: ignore[misc,list-item]
    assert emu.scripted == 1
    ok = client.chat.completions.create(model="gpt-4o-mini", messages=ASK)
    assert ok.choices[0].message.content == "kept"


def test_script_each_reply_taken_once_under_concurrency(emu: Emulator) -> None:
    client = _client(emu)
    emu.script(*[f"reply {i}" for i in range(24)])
    got: list[str] = []
    lock = threading.Lock()

    def ask(stream: bool) -> None:
        if stream:
            text, _ = _stream(client, model="gpt-4o-mini", messages=ASK)
        else:
            text = client.chat.completions.create(model="gpt-4o-mini", messages=ASK).choices[0].message.content or ""
        with lock:
            got.append(text)

    threads = [threading.Thread(target=ask, args=(i % 2 == 0,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(f"reply {i}" for i in range(24))
    assert emu.scripted == 0


@pytest.mark.parametrize("model", ["claude-3-5-sonnet-latest", "gemini-2.0-flash"])
def test_scripted_tool_call_round_trip_on_claude_and_gemini(emu: Emulator, model: str) -> None:
    """A scripted call is shaped like the family's own (Gemini: signed), so sending its result back works."""
    client = _client(emu)
    emu.script(ToolCall("get_weather", {"city": ["not", "a", "string"]}), "Sunny, thanks to the tool.")
    first = client.chat.completions.create(model=model, messages=ASK, tools=[WEATHER])
    calls = [c for choice in first.choices for c in choice.message.tool_calls or []]
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        ("get_weather", '{"city":["not","a","string"]}')]
    assistant = first.choices[0].message.model_dump(exclude_none=True)
    history = [*ASK, assistant, {"role": "tool", "tool_call_id": calls[0].id, "content": "error: bad city"}]
    second = client.chat.completions.create(model=model, messages=history, tools=[WEATHER])
    assert second.choices[0].message.content.strip() == "Sunny, thanks to the tool."


def test_reset_empties_the_script_and_bad_replies_are_refused(emu: Emulator) -> None:
    emu.script("a", "b")
    emu.reset()
    assert emu.scripted == 0
    with pytest.raises(TypeError, match="scripted reply"):
        emu.script("ok", 42)
    assert emu.scripted == 0  # nothing queued from a rejected batch
    with pytest.raises(TypeError, match="dict or a str"):
        ToolCall("f", 3)
    with pytest.raises(ValueError, match="HTTP error status"):
        ErrorReply(200)


# ------------------------------------------------------------------------------------------ prose unless forced
@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-2.0-flash"])
def test_prose_unless_forced(emu: Emulator, model: str) -> None:
    client = _client(emu)

    def calls(**kwargs: Any) -> list[str]:
        reply = client.chat.completions.create(model=model, messages=ASK, tools=[WEATHER], **kwargs)
        assert all(c.message.content or c.message.tool_calls for c in reply.choices)
        return [c.function.name for ch in reply.choices for c in ch.message.tool_calls or []]

    assert calls() == ["get_weather"]  # default: the emulator's model calls a tool the prompt names
    emu.prose_unless_forced = True
    assert calls() == [] and calls(tool_choice="auto") == []
    assert calls(tool_choice="required") == ["get_weather"]
    assert calls(tool_choice={"type": "function", "function": {"name": "get_weather"}}) == ["get_weather"]
    text, streamed = _stream(client, model=model, messages=ASK, tools=[WEATHER])
    assert streamed == [] and text.strip()


def test_prose_unless_forced_follows_what_the_relay_forwards() -> None:
    """one-api turns Claude's "required" into auto (only a named tool stays forced): the model answers in prose."""
    with Emulator(relay="one-api", prose_unless_forced=True) as emu:
        client = _client(emu)
        model = "claude-3-5-sonnet-latest"
        required = client.chat.completions.create(model=model, messages=ASK, tools=[WEATHER], tool_choice="required")
        assert not required.choices[0].message.tool_calls and required.choices[0].message.content
        named = client.chat.completions.create(model=model, messages=ASK, tools=[WEATHER],
                                               tool_choice={"type": "function", "function": {"name": "get_weather"}})
        assert [c.function.name for c in named.choices[0].message.tool_calls or []] == ["get_weather"]
