"""The emulator over real HTTP: the official ``openai`` SDK, plus raw httpx for quirks, faults and plumbing."""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel

from b3n.testing import Emulator
from tests.framework_inputs import function_tool

KEY = "sk-emulator-test"
ROOT = Path(__file__).resolve().parents[2]

WEATHER: Any = function_tool("get_weather", "Get the current weather in a given location", {
    "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
}, "location")
MAGIC: Any = function_tool("magic_function", "Apply a magic function to an input.", {"input": {"type": "integer"}},
                           "input")
NO_ARGS: Any = function_tool("magic_function_no_args", "Calculate a magic function.", {})


@pytest.fixture(scope="module")
def emu_server() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.fixture
def emu(emu_server: Emulator) -> Iterator[Emulator]:
    emu_server.reset()
    yield emu_server
    emu_server.reset()
    emu_server.quirks = True
    emu_server.latency = 0.0
    emu_server.reply_chunks = None
    emu_server.api_key = None


@pytest.fixture(scope="module")
def _sdk(emu_server: Emulator) -> Iterator[OpenAI]:
    client = OpenAI(base_url=emu_server.base_url, api_key=KEY, max_retries=0, timeout=10)
    yield client
    client.close()


@pytest.fixture
def sdk(_sdk: OpenAI, emu: Emulator) -> OpenAI:
    return _sdk


@pytest.fixture(scope="module")
def _http(emu_server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu_server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
        yield client


@pytest.fixture
def http(_http: httpx.Client, emu: Emulator) -> httpx.Client:
    return _http


@pytest.fixture(scope="module")
def _raw(emu_server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def raw(_raw: httpx.Client, emu: Emulator) -> httpx.Client:
    """A client without default headers (pass absolute URLs)."""
    return _raw


def chat_body(model: str = "gpt-4o-mini", text: str = "Hello", **kw: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **kw}


def sse_events(response: httpx.Response) -> list[Any]:
    """Parsed ``data:`` payloads of an SSE body (``"[DONE]"`` kept as a string)."""
    out: list[Any] = []
    for block in response.text.split("\n\n"):
        if block.startswith("data: "):
            payload = block[len("data: ") :]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


# == openai SDK ========================================================================================
def test_sdk_chat(sdk: OpenAI, emu: Emulator) -> None:
    reply = sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "say 1"}])
    assert reply.choices[0].message.content == "1"
    assert reply.model == "gpt-4o-mini-2024-07-18"
    assert reply.usage is not None and reply.usage.total_tokens == reply.usage.prompt_tokens + 1
    assert reply.id.startswith("chatcmpl-") and len(reply.id) == 38
    assert emu.count("chat") == 1
    sent = emu.last_request("chat")
    assert sent is not None and sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["messages"][0]["content"] == "say 1"


def test_sdk_stream_with_usage(sdk: OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello! I am the B3n emulator (model gpt-4o-mini). You said: Hello"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) == len(text.split())  # one word per chunk
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_sdk_stream_without_usage(sdk: OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    assert all(c.usage is None for c in chunks) and all(c.choices for c in chunks)


def test_sdk_tools_and_follow_up(sdk: OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "What is the weather in San Francisco, CA?"}]
    first = sdk.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["location"] == "San Francisco, CA"
    assert call.id.startswith("call_") and len(call.id) == 29
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "It's 64 degrees and foggy."})
    second = sdk.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "The result of get_weather is It's 64 degrees and foggy."
    assert second.choices[0].message.tool_calls is None


def test_sdk_stream_tool_calls(sdk: OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "What is the value of magic_function(3)? Use the tool."}],
        tools=[MAGIC],
        tool_choice="required",
        stream=True,
    )
    args = ""
    names = []
    for chunk in stream:
        for tc in chunk.choices[0].delta.tool_calls or []:
            assert tc.index == 0
            if tc.function and tc.function.name:
                names.append(tc.function.name)
            args += (tc.function.arguments or "") if tc.function else ""
    assert names == ["magic_function"] and json.loads(args) == {"input": 3}


def test_sdk_json_mode_and_structured_parse(sdk: OpenAI) -> None:
    reply = sdk.chat.completions.create(
        model="gpt-4o",
        response_format={"type": "json_object"},
        messages=[
            {"role": "system", "content": "You are a helpful assistant designed to output JSON."},
            {"role": "user", "content": "Tell me a joke with 'setup' and 'punchline'."},
        ],
    )
    assert set(json.loads(reply.choices[0].message.content or "")) == {"setup", "punchline"}

    class Joke(BaseModel):
        setup: str
        punchline: str | None

    parsed = sdk.chat.completions.parse(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell me a joke about cats."}], response_format=Joke
    )
    joke = parsed.choices[0].message.parsed
    assert joke is not None and joke.setup and joke.punchline


def test_sdk_embeddings_float_and_base64(sdk: OpenAI, emu: Emulator) -> None:
    texts = ["the quick brown fox", "向量 测试", "the quick brown dog"]
    flt = sdk.embeddings.create(model="text-embedding-3-small", input=texts, encoding_format="float")
    auto = sdk.embeddings.create(model="text-embedding-3-small", input=texts)  # the SDK asks for base64
    assert [r.json["encoding_format"] for r in emu.requests] == ["float", "base64"]
    assert [d.index for d in flt.data] == [0, 1, 2] and len(flt.data[0].embedding) == 1536
    assert [d.embedding for d in flt.data] == [d.embedding for d in auto.data]  # float32 values both ways
    assert flt.usage.prompt_tokens == flt.usage.total_tokens > 0
    raw = sdk.embeddings.create(model="text-embedding-3-large", input="x", encoding_format="base64", dimensions=64)
    assert isinstance(raw.data[0].embedding, str)
    assert len(base64.b64decode(raw.data[0].embedding)) == 64 * 4
    ada = sdk.embeddings.create(model="text-embedding-ada-002", input=[[1, 2, 3], [4, 5]], encoding_format="float")
    assert len(ada.data) == 2 and ada.usage.prompt_tokens == 5


def _check_png(data: bytes) -> None:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    kinds = []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + chunk) & 0xFFFFFFFF == crc
        if kind == b"IDAT":
            assert len(zlib.decompress(chunk)) == 64 * (1 + 64 * 3)
        kinds.append(kind)
        pos += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]


def test_sdk_images_url_and_b64(sdk: OpenAI, emu: Emulator, raw: httpx.Client) -> None:
    img = sdk.images.generate(model="dall-e-3", prompt="a white siamese cat", n=1, size="1024x1024")
    item = img.data[0] if img.data else None
    assert item is not None and item.url and item.revised_prompt
    assert item.url.startswith(emu.origin + "/files/img-")
    download = raw.get(item.url)
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    _check_png(download.content)
    b64 = sdk.images.generate(model="dall-e-3", prompt="a white siamese cat", response_format="b64_json")
    assert b64.data and base64.b64decode(b64.data[0].b64_json or "") == download.content
    with pytest.raises(openai.BadRequestError, match="n=1"):
        sdk.images.generate(model="dall-e-3", prompt="x", n=2)
    with pytest.raises(openai.BadRequestError, match="size"):
        sdk.images.generate(model="dall-e-3", prompt="x", size="512x512")
    assert raw.get(emu.origin + "/files/img-nope.png").status_code == 404


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac"])
def test_sdk_speech_transcription_round_trip(sdk: OpenAI, fmt: Any) -> None:
    text = "Hello world. This is the emulator speaking, 你好."
    speech = sdk.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format=fmt)
    audio = speech.read()
    if fmt == "wav":
        assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
    elif fmt == "mp3":
        assert audio[:3] == b"ID3"
    else:
        assert audio[:4] == b"fLaC"
    result = sdk.audio.transcriptions.create(model="whisper-1", file=(f"speech.{fmt}", audio))
    assert result.text == text
    verbose = sdk.audio.transcriptions.create(
        model="whisper-1",
        file=(f"speech.{fmt}", audio),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert verbose.text == text and verbose.duration > 0
    assert [s.text.strip() for s in verbose.segments or []] == ["Hello world.", "This is the emulator speaking, 你好."]
    assert verbose.words and verbose.words[0].word == "Hello"


def test_transcription_text_formats_and_unknown_audio(http: httpx.Client) -> None:
    files = {"file": ("clip.wav", b"RIFF0000WAVEjunk")}
    plain = http.post("/audio/transcriptions", files=files, data={"model": "whisper-1", "response_format": "text"})
    assert plain.status_code == 200 and plain.text == "(emulated transcription of 16 bytes)\n"
    srt = http.post("/audio/transcriptions", files=files, data={"model": "whisper-1", "response_format": "srt"})
    assert srt.text.startswith("1\n00:00:00,000 --> ")
    vtt = http.post("/audio/transcriptions", files=files, data={"model": "whisper-1", "response_format": "vtt"})
    assert vtt.text.startswith("WEBVTT\n\n00:00:00.000 --> ")
    bad = http.post("/audio/transcriptions", files={"file": ("x.txt", b"hi")}, data={"model": "whisper-1"})
    assert bad.status_code == 400
    big = http.post(
        "/audio/transcriptions",
        files={"file": ("big.mp3", b"\0" * (25 * 1024 * 1024 + 1))},
        data={"model": "whisper-1"},
    )
    assert big.status_code == 413


def test_speech_validation(http: httpx.Client) -> None:
    ok = {"model": "tts-1-hd", "input": "hi", "voice": "coral", "response_format": "pcm", "speed": 4.0}
    assert http.post("/audio/speech", json=ok).headers["content-type"] == "audio/pcm"
    patches: list[dict[str, Any]] = [
        {"voice": "robot"},
        {"speed": 5},
        {"input": "x" * 4097},
        {"response_format": "ogg"},
    ]
    for patch in patches:
        assert http.post("/audio/speech", json={**ok, **patch}).status_code == 400, patch


def test_sdk_models(sdk: OpenAI) -> None:
    ids = [m.id for m in sdk.models.list()]
    assert "gpt-4o-mini" in ids and "whisper-1" in ids and "o4-mini" in ids and len(ids) == 42
    assert sdk.models.retrieve("claude-3-5-sonnet-latest").owned_by == "anthropic"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("no-such-model")


def test_sdk_error_classes(sdk: OpenAI, emu: Emulator) -> None:
    emu.inject("rate_limit")
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(model="unknown-model", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="preceeding"):
        sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "x", "content": "1"}],
        )


# == quirks per family (raw httpx) =========================================================================
def test_quirks_gpt(http: httpx.Client) -> None:
    body = http.post("/chat/completions", json=chat_body("gpt-4o")).json()
    assert body["model"] == "gpt-4o-2024-08-06" and body["system_fingerprint"].startswith("fp_")
    choice = body["choices"][0]
    assert choice["logprobs"] is None and choice["message"]["refusal"] is None
    assert body["usage"]["completion_tokens_details"] == {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    }
    assert body["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    old = http.post("/chat/completions", json=chat_body("gpt-4")).json()
    assert old["model"] == "gpt-4-0613" and old["system_fingerprint"] is None
    for model, dated in [("gpt-3.5-turbo", "gpt-3.5-turbo-0125"), ("gpt-4-turbo", "gpt-4-turbo-2024-04-09")]:
        assert http.post("/chat/completions", json=chat_body(model)).json()["model"] == dated
    new = http.post("/chat/completions", json=chat_body("gpt-4.1-nano")).json()
    assert new["model"] == "gpt-4.1-nano"


def test_quirks_o1(http: httpx.Client) -> None:
    body = http.post("/chat/completions", json=chat_body("o1-mini", "say 1")).json()
    assert body["model"] == "o1-mini-2024-09-12" and "logprobs" not in body["choices"][0]
    usage = body["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0
    assert (
        usage["completion_tokens"]
        == 3 * (usage["completion_tokens"] - usage["completion_tokens_details"]["reasoning_tokens"]) // 1
    )
    errors: list[dict[str, Any]] = [
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "x"}]},
        {"temperature": 0.2},
        {"max_tokens": 5},
        {"stream": True},
        {"tools": [MAGIC]},
    ]
    for patch in errors:
        r = http.post("/chat/completions", json={**chat_body("o1-preview"), **patch})
        assert r.status_code == 400, patch
        assert "(request id: " in r.json()["error"]["message"]


def test_quirks_claude(http: httpx.Client) -> None:
    body = http.post("/chat/completions", json=chat_body("claude-3-5-sonnet-latest")).json()
    assert body["model"] == "claude-3-5-sonnet-latest" and "system_fingerprint" not in body
    assert len(body["id"]) == len("chatcmpl-") + 29
    tools = http.post(
        "/chat/completions",
        json=chat_body(
            "claude-3-5-haiku-latest", "What's the weather like in Boston today?", tools=[WEATHER], tool_choice="auto"
        ),
    ).json()
    first, second = tools["choices"]
    assert first["index"] == second["index"] == 0
    assert first["message"]["content"] is None and first["finish_reason"] == "tool_calls"
    assert first["message"]["tool_calls"][0]["id"].startswith("toolu_01")
    assert json.loads(first["message"]["tool_calls"][0]["function"]["arguments"])["location"] == "Boston"
    assert second["message"]["content"] == "I'll use the get_weather tool to help with that."
    assert second["finish_reason"] == "stop"
    opus = http.post("/chat/completions", json=chat_body("claude-3-opus-latest", "say 1")).json()
    assert opus["choices"][0]["message"]["content"].startswith("<thinking>\nThe user asks")
    empty = http.post("/chat/completions", json=chat_body("claude-3-5-sonnet-latest", ""))
    assert empty.status_code == 400 and "text content blocks must be non-empty" in empty.text


def test_quirks_claude_stream_tool_calls(http: httpx.Client) -> None:
    body = chat_body(
        "claude-3-5-sonnet-latest",
        "What is the value of magic_function_no_args()? Use the tool.",
        tools=[NO_ARGS],
        tool_choice="required",
        stream=True,
    )
    events = sse_events(http.post("/chat/completions", json=body))
    assert events[-1] == "[DONE]"
    deltas = [e["choices"][0]["delta"] for e in events[:-1]]
    assert deltas[0]["content"] == "I'll use the magic_function_no_args tool to help with that."
    call = deltas[1]["tool_calls"][0]
    assert "index" not in call and call["id"].startswith("toolu_01") and call["function"]["arguments"] == ""
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_quirks_gemini(http: httpx.Client) -> None:
    flash = http.post("/chat/completions", json=chat_body("gemini-1.5-flash-latest", "say 1")).json()
    assert "model" not in flash and flash["choices"][0]["message"]["content"] == "1 \n"
    assert len(flash["id"]) == len("chatcmpl-") + 32
    assert all(k not in flash["choices"][0] for k in ("logprobs",)) and "system_fingerprint" not in flash
    pro = http.post("/chat/completions", json=chat_body("gemini-1.5-pro-latest")).json()
    assert pro["model"] == ""
    body = chat_body(
        "gemini-1.5-pro-latest",
        "What is the weather in Paris and magic_function(5)?",
        tools=[WEATHER, MAGIC],
        stream=True,
        stream_options={"include_usage": True},
    )
    events = sse_events(http.post("/chat/completions", json=body))
    assert all(e["model"] == "" for e in events[:-1])
    calls = events[0]["choices"][0]["delta"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "magic_function"]
    assert all("index" not in c for c in calls) and json.loads(calls[1]["function"]["arguments"]) == {"input": 5}
    assert events[0]["choices"][0]["finish_reason"] == "stop"
    non_stream = http.post("/chat/completions", json={**body, "stream": False, "stream_options": None}).json()
    assert non_stream["choices"][0]["finish_reason"] == "stop" and non_stream["choices"][0]["message"]["tool_calls"]


def test_quirks_reverse_models_ignore_tools(http: httpx.Client) -> None:
    body = http.post(
        "/chat/completions", json=chat_body("search-gpts", "What is the weather in Paris?", tools=[WEATHER])
    ).json()
    assert body["choices"][0]["message"]["content"] and "tool_calls" not in body["choices"][0]["message"]


def test_quirks_off_is_clean_openai(http: httpx.Client, emu: Emulator) -> None:
    emu.quirks = False
    for model in ("claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "gpt-4o-mini"):
        body = http.post(
            "/chat/completions", json=chat_body(model, "What is the weather in Paris?", tools=[WEATHER])
        ).json()
        assert body["model"] == model and len(body["choices"]) == 1
        choice = body["choices"][0]
        assert choice["finish_reason"] == "tool_calls" and choice["message"]["tool_calls"][0]["id"].startswith("call_")
        events = sse_events(
            http.post(
                "/chat/completions",
                json=chat_body(model, "What is the weather in Paris?", tools=[WEATHER], stream=True),
            )
        )
        assert events[0]["choices"][0]["delta"]["tool_calls"][0]["index"] == 0
        assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_determinism(http: httpx.Client) -> None:
    body = chat_body("gpt-4o-mini", "What is the weather in Paris?", tools=[WEATHER])
    a, b = (http.post("/chat/completions", json=body).json() for _ in range(2))
    a.pop("created")
    b.pop("created")
    assert a == b


def test_reply_chunks(http: httpx.Client, emu: Emulator) -> None:
    emu.reply_chunks = 40
    events = sse_events(http.post("/chat/completions", json=chat_body(stream=True)))
    assert sum(1 for e in events[:-1] if e["choices"][0]["delta"].get("content")) == 40


# == auth, account, routing ==========================================================================
def test_auth_forms(emu: Emulator, raw: httpx.Client) -> None:
    url = emu.base_url + "/chat/completions"
    body = chat_body()
    missing = raw.post(url, json=body)
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "one_api_error"
    assert raw.post(url, json=body, headers={"Authorization": KEY}).status_code == 200
    assert raw.post(url, json=body, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    emu.api_key = KEY
    wrong = raw.post(url, json=body, headers={"Authorization": "Bearer sk-other"})
    assert wrong.status_code == 401
    error = wrong.json()["error"]
    assert error["code"] == "invalid_api_key" and error["message"].startswith("无效的令牌 (request id: ")
    assert raw.post(url, json=body, headers={"Authorization": KEY}).status_code == 200
    assert raw.get(emu.base_url + "/models").status_code == 401


def test_request_ids(http: httpx.Client) -> None:
    ok = http.post("/chat/completions", json=chat_body())
    bad = http.post("/chat/completions", json=chat_body("unknown-thing"))
    rid = bad.headers["x-oneapi-request-id"]
    assert ok.headers["x-oneapi-request-id"].isdigit() and rid.isdigit() and len(rid) >= 20
    assert bad.status_code == 503
    assert bad.json()["error"] == {
        "message": f"当前分组 default 下对于模型 unknown-thing 无可用渠道 (request id: {rid})",
        "type": "new_api_error",
        "param": "",
        "code": "model_not_found",
    }


def test_account(emu: Emulator, raw: httpx.Client) -> None:
    url = emu.origin + "/api/user/self"
    raw.get(emu.base_url + "/models", headers={"Authorization": KEY})
    ok = raw.get(url, headers={"Authorization": "emu-access-token", "New-Api-User": "1"})
    body = ok.json()
    assert ok.status_code == 200 and body["success"] is True and body["message"] == ""
    data = body["data"]
    assert data["quota"] == 5_000_000 and data["used_quota"] == 1_234_567 and data["group"] == "default"
    assert data["request_count"] == 2 and data["id"] == 1
    for key in ("lark_id", "admin_access_flags", "inviteUserNumber", "TopupGroupMinLimit", "ShowPackagePlan"):
        assert key in data
    bearer = raw.get(url, headers={"Authorization": "Bearer emu-access-token", "New-Api-User": "1"})
    assert bearer.status_code == 200
    wrong = raw.get(url, headers={"Authorization": KEY, "New-Api-User": "1"})
    assert wrong.status_code == 401 and wrong.json() == {
        "success": False,
        "message": "无权进行此操作，未登录且未提供 access token",
    }
    no_user = raw.get(url, headers={"Authorization": "emu-access-token"})
    assert no_user.status_code == 401 and "New-Api-User" in no_user.json()["message"]
    other = raw.get(url, headers={"Authorization": "emu-access-token", "New-Api-User": "2"})
    assert other.status_code == 401 and "不匹配" in other.json()["message"]


def test_routing_errors(http: httpx.Client) -> None:
    assert http.post("/nope", json={}).status_code == 404
    assert "Invalid URL" in http.get("/chat/completions").json()["error"]["message"]
    bad = http.post("/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert http.post("/chat/completions", json=chat_body("text-embedding-3-small")).status_code == 400
    assert http.post("/embeddings", json={"model": "gpt-4o", "input": "x"}).status_code == 400
    assert http.post("/embeddings", json={"model": "text-embedding-3-small", "input": ""}).status_code == 400
    assert http.post("/embeddings", json={"model": "text-embedding-3-small", "input": ["a"] * 2049}).status_code == 400
    ada = http.post("/embeddings", json={"model": "text-embedding-ada-002", "input": "x", "dimensions": 8})
    assert ada.status_code == 400 and "does not support specifying dimensions" in ada.text


def test_counts_and_recording(http: httpx.Client, emu: Emulator) -> None:
    http.post("/chat/completions", json=chat_body())
    http.post("/chat/completions", json=chat_body())
    http.post("/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
    http.get("/models")
    assert emu.counts == {"POST /v1/chat/completions": 2, "POST /v1/embeddings": 1, "GET /v1/models": 1}
    assert emu.count("chat") == emu.count("POST /v1/chat/completions") == 2
    assert emu.total_requests == 4 and len(emu.requests) == 4
    last = emu.last_request("embeddings")
    assert last is not None and last.json == {"model": "text-embedding-3-small", "input": "x"}
    assert last.method == "POST" and last.path == "/v1/embeddings" and last.body_size > 0
    assert emu.last_request(None) is emu.requests[-1]
    assert _wait_for(lambda: emu.active_requests == 0)  # the handler finishes just after the client has the reply
    emu.reset()
    assert emu.counts == {} and emu.total_requests == 0 and emu.requests == []


# == faults ==========================================================================================
def test_fault_rate_limit_with_retry_after(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("rate_limit", times=2, retry_after=7)
    first = http.post("/chat/completions", json=chat_body())
    assert first.status_code == 429 and first.headers["retry-after"] == "7"
    assert first.json()["error"]["code"] == "rate_limit_exceeded"
    assert http.post("/chat/completions", json=chat_body()).status_code == 429
    assert http.post("/chat/completions", json=chat_body()).status_code == 200
    emu.inject("rate_limit")
    assert "retry-after" not in http.post("/chat/completions", json=chat_body()).headers
    assert emu.count("chat") == 4
    assert [r.fault for r in emu.requests] == ["rate_limit", "rate_limit", None, "rate_limit"]


def test_fault_server_error_html(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("server_error", status=502)
    r = http.post("/chat/completions", json=chat_body())
    assert r.status_code == 502 and r.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in r.text and "cloudflare" in r.text
    emu.inject("server_error")
    assert http.post("/chat/completions", json=chat_body()).status_code == 500


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("quota", 403, "insufficient_user_quota"),
        ("auth", 401, "invalid_api_key"),
        ("model_unavailable", 503, "model_not_found"),
    ],
)
def test_fault_json_errors(http: httpx.Client, emu: Emulator, kind: str, status: int, code: str) -> None:
    emu.inject(kind, route="embeddings")
    assert http.post("/chat/completions", json=chat_body()).status_code == 200  # other routes unaffected
    r = http.post("/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
    assert r.status_code == status and r.json()["error"]["code"] == code
    if kind == "quota":
        assert r.json()["error"]["message"].startswith("用户额度不足, 剩余额度: ＄0.000000 (request id: ")


def test_fault_drop(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/chat/completions", json=chat_body())
    assert http.post("/chat/completions", json=chat_body()).status_code == 200
    assert emu.count("chat") == 2


def test_fault_stream_cut(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("stream_cut", after=2)
    received: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("POST", "/chat/completions", json=chat_body(stream=True)) as r,
    ):
        for line in r.iter_lines():
            if line:
                received.append(line)
    assert len(received) == 2 and "[DONE]" not in received[-1]
    emu.inject("stream_cut")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/chat/completions", json=chat_body())  # non-streamed: closed mid-body


def test_fault_malformed_chunk(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("malformed_chunk", after=1)
    r = http.post("/chat/completions", json=chat_body(stream=True))
    lines = [line for line in r.text.split("\n\n") if line]
    assert lines[1] == "data: {not json" and lines[-1] == "data: [DONE]"
    json.loads(lines[2][len("data: ") :])  # the stream continues normally


def test_fault_bad_json_and_empty_choices(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("bad_json")
    r = http.post("/chat/completions", json=chat_body())
    assert r.status_code == 200 and r.text == '{"id": "x", "choices": ['
    emu.inject("empty_choices")
    body = http.post("/chat/completions", json=chat_body()).json()
    assert body["choices"] == [] and "error" not in body
    emu.inject("empty_choices")
    events = sse_events(http.post("/chat/completions", json=chat_body(stream=True)))
    assert events[0]["choices"] == [] and events[-1] == "[DONE]"


def test_fault_slow_first_byte_and_stall(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("slow_first_byte", delay=0.3)
    start = time.monotonic()
    assert http.post("/chat/completions", json=chat_body()).status_code == 200
    assert time.monotonic() - start >= 0.3
    emu.inject("stall", after=2, delay=0.3)
    stamps: list[float] = []
    with http.stream("POST", "/chat/completions", json=chat_body(stream=True)) as r:
        for line in r.iter_lines():
            if line:
                stamps.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert max(gaps) >= 0.25 and gaps.index(max(gaps)) == 1
    assert emu.disconnects == 0


def test_fault_applies_to_any_route_and_rates(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("server_error", route="*", status=503)
    assert http.get("/models").status_code == 503
    emu.set_fault_rate("rate_limit", 0.5, route="chat", seed=42)
    statuses = [http.post("/chat/completions", json=chat_body()).status_code for _ in range(40)]
    limited = statuses.count(429)
    assert 8 <= limited <= 32 and set(statuses) == {200, 429}
    emu.reset()
    emu.set_fault_rate("rate_limit", 0.5, route="chat", seed=42)
    again = [http.post("/chat/completions", json=chat_body()).status_code for _ in range(40)]
    assert again == statuses  # seeded: reproducible
    emu.set_fault_rate("rate_limit", 0, route="chat")
    assert http.post("/chat/completions", json=chat_body()).status_code == 200
    with pytest.raises(ValueError):
        emu.inject("meteor_strike")


def test_latency_setting(http: httpx.Client, emu: Emulator) -> None:
    emu.latency = 0.2
    start = time.monotonic()
    http.get("/models")
    assert time.monotonic() - start >= 0.2


# == disconnects, concurrency, lifecycle ===============================================================
def _wait_for(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_disconnect_detected_during_slow_first_byte(emu: Emulator) -> None:
    emu.inject("slow_first_byte", delay=5)
    with httpx.Client(timeout=httpx.Timeout(10, read=0.2), headers={"Authorization": KEY}) as client:
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            client.post(emu.base_url + "/chat/completions", json=chat_body())
    assert _wait_for(lambda: emu.disconnects == 1)
    assert time.monotonic() - start < 2  # the server stopped waiting as soon as the client left
    assert _wait_for(lambda: emu.active_requests == 0)


def test_disconnect_detected_during_stall(emu: Emulator) -> None:
    emu.inject("stall", after=1, delay=5)
    with (
        httpx.Client(headers={"Authorization": KEY}) as client,
        client.stream("POST", emu.base_url + "/chat/completions", json=chat_body(stream=True)) as r,
    ):
        next(r.iter_lines())
    assert _wait_for(lambda: emu.disconnects == 1)


def test_disconnect_detected_mid_stream(emu: Emulator) -> None:
    emu.reply_chunks = 20_000
    with (
        httpx.Client(headers={"Authorization": KEY}) as client,
        client.stream("POST", emu.base_url + "/chat/completions", json=chat_body(stream=True)) as r,
    ):
        next(r.iter_lines())
    assert _wait_for(lambda: emu.disconnects == 1)
    assert _wait_for(lambda: emu.active_requests == 0)


def test_active_requests_and_concurrency(emu: Emulator) -> None:
    emu.inject("slow_first_byte", delay=3.0)  # eight quick calls finish well within it, even on a busy 2-core machine
    results: list[int] = []

    def call() -> None:
        results.append(
            httpx.post(emu.base_url + "/chat/completions", json=chat_body(), headers={"Authorization": KEY}).status_code
        )

    slow = threading.Thread(target=call)
    slow.start()
    assert _wait_for(lambda: emu.active_requests == 1)
    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert emu.active_requests >= 1  # the slow one is still waiting
    slow.join()
    assert results == [200] * 9 and _wait_for(lambda: emu.active_requests == 0)


def test_raw_socket_disconnect_counted(emu: Emulator) -> None:
    emu.inject("slow_first_byte", delay=5)
    body = json.dumps(chat_body()).encode()
    with socket.create_connection(("127.0.0.1", emu.port)) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: k\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert _wait_for(lambda: emu.active_requests == 1)
    assert _wait_for(lambda: emu.disconnects == 1)


def test_start_stop_lifecycle() -> None:
    emu = Emulator(quirks=False, latency=0.0, api_key="k", port=0)
    with pytest.raises(RuntimeError):
        _ = emu.base_url
    emu.start()
    assert emu.base_url == f"http://127.0.0.1:{emu.port}/v1" and emu.origin == f"http://127.0.0.1:{emu.port}"
    client = httpx.Client(headers={"Authorization": "k"})
    assert client.get(emu.base_url + "/models").status_code == 200  # keeps a pooled keep-alive socket
    emu.stop()
    with pytest.raises(httpx.TransportError):
        client.get(emu.base_url + "/models")
    client.close()
    emu.stop()  # idempotent


def test_python_dash_m_cli() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "b3n.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base_url = next(word for word in line.split() if word.startswith("http://"))
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        models = httpx.get(base_url + "/models", headers={"Authorization": "k"}).json()
        assert models["object"] == "list"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
