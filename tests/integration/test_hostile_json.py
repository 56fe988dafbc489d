"""Deep or odd JSON from a relay: the answer arrives, or a typed B3nError says what came; nothing crashes.

A prompt-injected model can emit ~1,000 nested brackets in tool-call arguments; a broken relay can send
usage of ``1e400`` or ``"²"``, or an account field of the wrong type. Each is served here by a small
loopback relay, through the public classes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from b3n import B3nClient, B3nError, B3nResponseError
from langchain_b3n import ChatB3n
from llama_index_b3n import B3n
from tests.hostile import CHAT_BODY, HostileServer

DEEP_ARGS = "[" * 1000 + "]" * 1000


def _reply(message: dict[str, Any], usage: Any = None) -> bytes:
    body: dict[str, Any] = {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    if usage is not None:
        body["usage"] = usage
    return json.dumps(body).encode()


def _serve(body: bytes, status: int = 200) -> HostileServer:
    return HostileServer(lambda h, n: h.reply(status, body))


def _tool_message(arguments: str) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_deep", "type": "function", "function": {"name": "lookup", "arguments": arguments}},
        {"id": "call_ok", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "Zürich"}'}},
    ]}


def test_deeply_nested_tool_arguments_become_invalid_tool_calls_in_langchain() -> None:
    with _serve(_reply(_tool_message(DEEP_ARGS))) as relay:
        message = ChatB3n(api_key="sk-test", base_url=relay.url + "/v1", max_retries=0).invoke([HumanMessage("hi")])
        assert relay.count("/chat/completions") == 1
    assert [c["args"] for c in message.tool_calls] == [{"q": "Zürich"}]
    [bad] = message.invalid_tool_calls
    assert bad["id"] == "call_deep" and bad["name"] == "lookup" and "deeper than" in (bad["error"] or "")


def test_deeply_nested_tool_arguments_in_a_stream_become_invalid_tool_calls() -> None:
    chunk = {"id": "c1", "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": _tool_message(DEEP_ARGS),
                                                               "finish_reason": "tool_calls"}]}
    sse = b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n"
    with HostileServer(lambda h, n: h.reply(200, sse, content_type="text/event-stream")) as relay:
        chunks = list(ChatB3n(api_key="sk-test", base_url=relay.url + "/v1", max_retries=0).stream("hi"))
    merged = chunks[0]
    for c in chunks[1:]:
        merged += c
    assert [c["args"] for c in merged.tool_calls] == [{"q": "Zürich"}]
    assert [c["id"] for c in merged.invalid_tool_calls] == ["call_deep"]


def test_deeply_nested_tool_arguments_give_llamaindex_a_tool_selection_without_arguments() -> None:
    with _serve(_reply(_tool_message(DEEP_ARGS))) as relay:
        llm = B3n(api_key="sk-test", api_base=relay.url + "/v1", max_retries=0)
        from llama_index.core.llms import ChatMessage

        response = llm.chat([ChatMessage(role="user", content="hi")])
        selections = llm.get_tool_calls_from_response(response)
    assert [(s.tool_id, s.tool_kwargs) for s in selections] == [("call_deep", {}), ("call_ok", {"q": "Zürich"})]


@pytest.mark.parametrize("depth", [200, 1_000, 100_000])
def test_a_deeply_nested_relay_body_is_a_typed_error(depth: int) -> None:
    body = b'{"choices": ' + b"[" * depth + b"]" * depth + b"}"
    with _serve(body) as relay:
        with pytest.raises(B3nResponseError, match="deeper than 128") as caught:
            B3nClient(api_key="sk-test", base_url=relay.url + "/v1", max_retries=0).chat.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert relay.count("/chat/completions") == 1  # a body was billed: not repeated
    assert "Not retried" in str(caught.value)


@pytest.mark.parametrize("usage", [
    {"prompt_tokens": 1e400, "completion_tokens": "²", "total_tokens": float("nan")},
    {"prompt_tokens": 10**400, "completion_tokens": -5, "total_tokens": "1e400"},
    {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "prompt_tokens_details": {"cached_tokens": 1e400},
     "completion_tokens_details": {"reasoning_tokens": "١٢"}},
])
def test_absurd_usage_numbers_keep_the_answer(usage: dict[str, Any]) -> None:
    body = _reply({"role": "assistant", "content": "Grüße"}, usage).replace(b"NaN", b"NaN")
    with _serve(body) as relay:
        message = ChatB3n(api_key="sk-test", base_url=relay.url + "/v1", max_retries=0).invoke("hi")
    assert message.content == "Grüße"
    meta = message.usage_metadata
    assert meta is not None and all(0 <= meta[k] < 2**54 for k in ("input_tokens", "output_tokens", "total_tokens"))


@pytest.mark.parametrize("field", [
    {"username": {"nested": 1}}, {"role": "admin"}, {"email": ["a"]}, {"quota": 1e400}, {"quota": "²"},
    {"used_quota": -1}, {"id": "x"}, {"group": 5},
])
def test_an_account_field_of_the_wrong_type_is_a_typed_error(field: dict[str, Any]) -> None:
    body = json.dumps({"success": True, "data": {"id": 1, "username": "ann", "quota": 10, **field}}).encode()
    with _serve(body) as relay:
        client = B3nClient(api_key="sk-test", base_url=relay.url + "/v1", access_token="tok", user_id=1,
                           max_retries=0)
        with pytest.raises(B3nResponseError, match="/api/user/self") as caught:
            client.account.whoami()
    assert next(iter(field)) in str(caught.value)


def test_models_with_odd_fields_are_listed() -> None:
    body = json.dumps({"data": [{"id": "gpt-4o", "object": None, "owned_by": 5, "created": 1e400},
                                {"id": "mystery", "created": "²"}]}).encode()
    with _serve(body) as relay:
        models = B3nClient(api_key="sk-test", base_url=relay.url + "/v1", max_retries=0).models.list()
    assert [(m.id, m.object, m.owned_by, m.created) for m in models] == [
        ("gpt-4o", "model", None, None), ("mystery", "model", None, None)]


def test_a_plain_body_still_parses() -> None:
    with _serve(CHAT_BODY) as relay:
        assert ChatB3n(api_key="sk-test", base_url=relay.url + "/v1", max_retries=0).invoke("hi").content == "ok"


def test_every_error_here_is_a_b3n_error() -> None:
    assert issubclass(B3nResponseError, B3nError)
