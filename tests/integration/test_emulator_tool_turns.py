"""The emulator over HTTP across tool turns: Gemini thought signatures, chained calls, forced finishing calls."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import OpenAI

from b3n.testing import Emulator

KEY = "sk-emulator-test"
INTS = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}
MULTIPLY: Any = {"type": "function", "function": {"name": "multiply", "description": "Multiply.", "parameters": INTS}}
ADD: Any = {"type": "function", "function": {"name": "add", "description": "Add two integers.", "parameters": INTS}}
TASK = "Use the multiply tool to multiply 3 and 4, and use the add tool to add 3 and 4."


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=emulator.base_url, headers=headers, timeout=10) as client:
        yield client


def _events(response: httpx.Response) -> list[dict[str, Any]]:
    blocks = [b[len("data: ") :] for b in response.text.split("\n\n") if b.startswith("data: ")]
    return [json.loads(b) for b in blocks if b != "[DONE]"]


def _signature(call: dict[str, Any]) -> str:
    value = call["extra_content"]["google"]["thought_signature"]
    assert isinstance(value, str)
    return value


def _ask(http: httpx.Client, model: str, messages: list[dict[str, Any]], **kw: Any) -> httpx.Response:
    return http.post("/chat/completions", json={"model": model, "messages": messages, "tools": [MULTIPLY, ADD], **kw})


def _results(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for call in calls:
        args = json.loads(call["function"]["arguments"])
        value = args["a"] * args["b"] if call["function"]["name"] == "multiply" else args["a"] + args["b"]
        out.append({"role": "tool", "tool_call_id": call["id"], "content": str(value)})
    return out


# -- thought signatures -------------------------------------------------------------------------------
def test_gemini_signs_every_call_non_streamed_and_streamed(http: httpx.Client) -> None:
    user = [{"role": "user", "content": TASK}]
    calls = _ask(http, "gemini-1.5-pro-latest", user).json()["choices"][0]["message"]["tool_calls"]
    signatures = [_signature(c) for c in calls]
    assert len(calls) == 2 and len(set(signatures)) == 2
    assert all(re.fullmatch(r"[A-Za-z0-9+/]+=*", s) and len(s) > 60 for s in signatures)
    again = _ask(http, "gemini-1.5-pro-latest", user).json()["choices"][0]["message"]["tool_calls"]
    assert [_signature(c) for c in again] == signatures  # deterministic, like the ids
    streamed = _events(_ask(http, "gemini-1.5-flash-latest", user, stream=True))
    first_delta = streamed[0]["choices"][0]["delta"]["tool_calls"]
    assert len(first_delta) == 2 and all(_signature(c) for c in first_delta)


def test_only_gemini_with_quirks_signs(http: httpx.Client, emulator: Emulator) -> None:
    user = [{"role": "user", "content": TASK}]
    for model in ("gpt-4o-mini", "claude-3-5-sonnet-latest"):
        for choice in _ask(http, model, user).json()["choices"]:
            assert all("extra_content" not in c for c in choice["message"].get("tool_calls") or [])
    emulator.quirks = False
    calls = _ask(http, "gemini-1.5-pro-latest", user).json()["choices"][0]["message"]["tool_calls"]
    assert calls and all("extra_content" not in c for c in calls)
    follow_up = [*user, {"role": "assistant", "content": None, "tool_calls": calls}, *_results(calls)]
    assert _ask(http, "gemini-1.5-pro-latest", follow_up).status_code == 200


def test_missing_signature_is_a_400_like_gemini(http: httpx.Client) -> None:
    user = [{"role": "user", "content": TASK}]
    calls = _ask(http, "gemini-1.5-pro-latest", user).json()["choices"][0]["message"]["tool_calls"]
    signed = [*user, {"role": "assistant", "content": None, "tool_calls": calls}, *_results(calls)]
    assert _ask(http, "gemini-1.5-pro-latest", signed).json()["choices"][0]["message"]["content"].startswith(
        "The result of multiply is 12."
    )
    bare = [{k: v for k, v in c.items() if k != "extra_content"} for c in calls]
    unsigned = [*user, {"role": "assistant", "content": None, "tool_calls": bare}, *_results(calls)]
    for stream in (False, True):
        response = _ask(http, "gemini-1.5-pro-latest", unsigned, stream=stream)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error" and error["code"] == "invalid_argument"
        assert error["message"].startswith("Function call is missing a thought_signature in functionCall parts.")
        assert "`default_api:multiply`" in error["message"]
        assert re.search(r"\(request id: \d{22}\)$", error["message"])
    # only Gemini checks: the same history is fine for another model
    assert _ask(http, "gpt-4o-mini", unsigned).status_code == 200


def test_only_the_current_turn_is_checked(http: httpx.Client) -> None:
    user = [{"role": "user", "content": TASK}]
    calls = _ask(http, "gemini-1.5-pro-latest", user).json()["choices"][0]["message"]["tool_calls"]
    bare = [{k: v for k, v in c.items() if k != "extra_content"} for c in calls]
    history = [
        *user,
        {"role": "assistant", "content": None, "tool_calls": bare},
        *_results(calls),
        {"role": "assistant", "content": "12 and 7."},
        {"role": "user", "content": "say thanks"},
    ]
    reply = _ask(http, "gemini-1.5-pro-latest", history)
    assert reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"] == "thanks \n"


def test_openai_sdk_messages_round_trip_the_signature(emulator: Emulator) -> None:
    """Appending the SDK's message object (as OpenAI's docs show) keeps ``extra_content``."""
    sdk = OpenAI(base_url=emulator.base_url, api_key=KEY, max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "What is 3 * 4? Then add 5 to the result."}]
    for _ in range(3):
        reply = sdk.chat.completions.create(model="gemini-1.5-pro-latest", messages=messages, tools=[MULTIPLY, ADD])
        message = reply.choices[0].message
        if not message.tool_calls:
            break
        messages.append(message)
        messages += _results([c.model_dump() for c in message.tool_calls])
    assert message.content == "First multiply returned 12, then add returned 17. The final result is 17. \n"
    assert emulator.count("chat") == 3


# -- chained calls and forced finishing calls ------------------------------------------------------------
def test_chained_calls_over_http_and_streamed(http: httpx.Client) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "multiply 3 and 4, then add 5 to that"}]
    names: list[tuple[str, dict[str, Any]]] = []
    for _ in range(3):
        events = _events(_ask(http, "claude-3-5-sonnet-latest", messages, stream=True))
        deltas = [e["choices"][0]["delta"] for e in events if e["choices"]]
        fragments = [tc for d in deltas for tc in d.get("tool_calls") or []]
        if not fragments:
            text = "".join(d.get("content") or "" for d in deltas)
            break
        call = {**fragments[0], "function": {**fragments[0]["function"]}}
        call["function"]["arguments"] = "".join(f["function"]["arguments"] for f in fragments)
        names.append((call["function"]["name"], json.loads(call["function"]["arguments"])))
        messages += [{"role": "assistant", "content": None, "tool_calls": [call]}, *_results([call])]
    assert names == [("multiply", {"a": 3, "b": 4}), ("add", {"a": 12, "b": 5})]
    assert text.endswith("The final result is 17.")


def test_required_calls_an_uncalled_tool_after_results(http: httpx.Client) -> None:
    answer_tool = {
        "type": "function",
        "function": {
            "name": "FinalAnswer",
            "description": "The final answer.",
            "parameters": {
                "type": "object",
                "properties": {"product": {"type": "integer"}, "explanation": {"type": "string"}},
                "required": ["product", "explanation"],
            },
        },
    }
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Use the multiply tool to multiply 6 and 7."}]
    body = {"model": "gpt-4o-mini", "tools": [MULTIPLY, ADD, answer_tool], "tool_choice": "required"}
    first = http.post("/chat/completions", json={**body, "messages": messages}).json()
    calls = first["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["multiply"]
    messages += [{"role": "assistant", "content": None, "tool_calls": calls}, *_results(calls)]
    second = http.post("/chat/completions", json={**body, "messages": messages}).json()
    (final,) = second["choices"][0]["message"]["tool_calls"]
    assert final["function"]["name"] == "FinalAnswer"
    assert json.loads(final["function"]["arguments"]) == {
        "product": 42,
        "explanation": "The result of multiply is 42.",
    }
