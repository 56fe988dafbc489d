"""Unknown request arguments: the emulator refuses them like OpenAI, or drops them where the relay profile does."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI
from typing_extensions import is_typeddict

from b3n.testing import Emulator
from b3n.testing.arguments import KNOWN
from tests.native_inputs import wav

KEY = "sk-arguments-test"
SAY: Any = [{"role": "user", "content": "say 1"}]
FAMILIES = {"gpt": "gpt-4o-mini", "claude": "claude-3-5-sonnet-latest", "gemini": "gemini-2.0-flash"}
#: what each relay profile does with a stray chat key, per family: refused (400) or dropped (200).
EXPECTED = {
    "docs": {"gpt": 400, "claude": 400, "gemini": 400},
    "one-api": {"gpt": 400, "claude": 200, "gemini": 200},
    "new-api-2412": {"gpt": 200, "claude": 200, "gemini": 200},
    "new-api": {"gpt": 200, "claude": 200, "gemini": 200},
}


def _client(emu: Emulator) -> OpenAI:
    return OpenAI(base_url=emu.base_url, api_key=KEY, max_retries=0)


# ------------------------------------------------------------------------------ the lists are OpenAI's
_PARAM_MODULES = {
    "chat": "openai.types.chat.completion_create_params",
    "embeddings": "openai.types.embedding_create_params",
    "images": "openai.types.image_generate_params",
    "speech": "openai.types.audio.speech_create_params",
    "transcriptions": "openai.types.audio.transcription_create_params",
}


def _sdk_arguments(module_name: str) -> set[str]:
    """Every key of the request TypedDicts (``...CreateParams*``) of an ``openai`` types module."""
    module = importlib.import_module(module_name)
    keys: set[str] = set()
    for name, value in vars(module).items():
        if name.endswith(("ParamsBase", "ParamsStreaming", "ParamsNonStreaming", "Params")) and is_typeddict(value):
            keys |= set(value.__required_keys__) | set(value.__optional_keys__)
    return keys


@pytest.mark.parametrize("route", sorted(_PARAM_MODULES))
def test_known_arguments_are_the_openai_package_request_types(route: str) -> None:
    assert KNOWN[route] == _sdk_arguments(_PARAM_MODULES[route])


# ------------------------------------------------------------------------------ per profile and family
@pytest.mark.parametrize("relay", sorted(EXPECTED))
@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("stream", [False, True])
def test_stray_chat_key_per_profile_and_family(
    relay_servers: dict[str, Emulator], relay: str, family: str, stream: bool
) -> None:
    emu = relay_servers[relay]
    emu.reset()
    client = _client(emu)
    kwargs: dict[str, Any] = {"model": FAMILIES[family], "messages": SAY, "extra_body": {"request_timeout": 30}}
    if EXPECTED[relay][family] == 400:
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(stream=stream, **kwargs)
        assert err.value.status_code == 400
        assert err.value.body["type"] == "invalid_request_error"  # type: ignore[index]
        assert err.value.body["message"].startswith(  # type: ignore[index]
            "Unrecognized request argument supplied: request_timeout")
    else:  # the relay rebuilt the body without the key: the model answers
        if stream:
            text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
                stream=True, **kwargs) if c.choices)
        else:
            text = client.chat.completions.create(**kwargs).choices[0].message.content or ""
        assert text.strip() == "1"
    assert emu.count("chat") == 1
    assert emu.last_request("chat").json["request_timeout"] == 30  # type: ignore[union-attr]  # what was sent


def test_several_stray_keys_named_in_one_message(relay_servers: dict[str, Emulator]) -> None:
    client = _client(relay_servers["docs"])
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=SAY,
                                       extra_body={"temprature": 0, "request_timeout": 30, "ünïcode key": 1})
    assert err.value.body["message"].startswith(  # type: ignore[index]
        "Unrecognized request arguments supplied: request_timeout, temprature, ünïcode key")


def test_every_known_chat_argument_is_accepted_as_null(relay_servers: dict[str, Emulator]) -> None:
    """A known argument is never refused as unrecognized (null is every optional argument's 'not given')."""
    body = {name: None for name in KNOWN["chat"] - {"model", "messages"}}
    response = httpx.post(relay_servers["docs"].base_url + "/chat/completions", headers={"Authorization": KEY},
                          json={"model": "gpt-4o-mini", "messages": SAY, **body})
    assert response.status_code == 200, response.text


def test_gemini_takes_extra_body_other_families_refuse_it(relay_servers: dict[str, Emulator]) -> None:
    client = _client(relay_servers["docs"])
    thinking = {"extra_body": {"google": {"thinking_config": {"thinking_budget": 0}}}}
    reply = client.chat.completions.create(model="gemini-2.5-flash", messages=SAY, extra_body=thinking)
    assert reply.choices[0].message.content
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: extra_body"):
        client.chat.completions.create(model="gpt-4o-mini", messages=SAY, extra_body=thinking)


def test_new_api_drops_arguments_its_struct_lacks() -> None:
    """new-api rebuilds the body: parallel_tool_calls=False does not reach the model (it calls both tools)."""
    tools: Any = [{"type": "function", "function": {"name": name, "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
        for name in ("get_weather", "get_time")]
    ask: Any = [{"role": "user", "content": "Use get_weather and get_time for Paris."}]
    counts = {}
    for relay in ("docs", "new-api"):
        with Emulator(relay=relay) as emu:
            reply = _client(emu).chat.completions.create(model="gpt-4o-mini", messages=ask, tools=tools,
                                                         parallel_tool_calls=False)
            counts[relay] = len(reply.choices[0].message.tool_calls or [])
    assert counts == {"docs": 1, "new-api": 2}


# ------------------------------------------------------------------------------ other routes
@pytest.mark.parametrize("relay", ["docs", "one-api", "new-api"])
def test_stray_key_on_embeddings_images_speech_transcriptions(relay_servers: dict[str, Emulator], relay: str) -> None:
    client = _client(relay_servers[relay])
    refused = relay != "new-api"  # one-api passes these bodies through; new-api rebuilds them
    calls = {
        "embeddings": lambda: client.embeddings.create(model="text-embedding-3-small", input="x",
                                                       extra_body={"chunk_size": 1000}),
        "images": lambda: client.images.generate(model="dall-e-3", prompt="a cat", extra_body={"chunk_size": 1}),
        "speech": lambda: client.audio.speech.create(model="tts-1", voice="alloy", input="hi",
                                                     extra_body={"chunk_size": 1}).read(),
    }
    for route, call in calls.items():
        before = relay_servers[relay].count(route)
        if refused:
            with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: chunk_size"):
                call()
        else:
            call()
        assert relay_servers[relay].count(route) == before + 1  # one request each, never retried
    # every relay forwards transcription form fields as they are: OpenAI refuses an unknown one
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: chunk_size"):
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav()), extra_body={"chunk_size": 1})
    text = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav()), language="en",
                                              timestamp_granularities=["word"], response_format="verbose_json")
    assert text is not None


def test_lenient_mode_accepts_and_ignores_stray_keys() -> None:
    with Emulator(strict=False) as emu:
        client = _client(emu)
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=SAY, extra_body={"request_timeout": 30})
        assert reply.choices[0].message.content == "1"
        emu.strict = True  # takes effect at once
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="gpt-4o-mini", messages=SAY, extra_body={"request_timeout": 30})


@pytest.mark.parametrize("command", [["-m", "b3n.testing"], ["-m", "b3n.cli", "emulator"]])
def test_command_line_lenient_and_prose_unless_forced(command: list[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, *command, "--port", "0", "--lenient", "--prose-unless-forced"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=root)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "unknown request arguments accepted" in line and "tools only when forced" in line, line
        base_url = next(word for word in line.split() if word.startswith("http://"))
        client = OpenAI(base_url=base_url, api_key=KEY, max_retries=0)
        tool: Any = {"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
        ask: Any = [{"role": "user", "content": "Use get_weather for Paris."}]
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=ask, tools=[tool],
                                               extra_body={"request_timeout": 30})
        assert reply.choices[0].message.content and not reply.choices[0].message.tool_calls
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
