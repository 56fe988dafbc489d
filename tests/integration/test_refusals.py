"""Refusals (OpenAI structured outputs) reach the user instead of turning into parse errors.

The emulator never refuses, so a minimal stdlib relay on loopback answers every chat request
with a refusal, as JSON or as an SSE stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from langchain_core.exceptions import ModelRefusalError
from llama_index.core.llms import ChatMessage
from pydantic import BaseModel

from b3n import B3nClient
from langchain_b3n import ChatB3n
from llama_index_b3n import B3n
from tests.hostile import serving

REFUSAL = "I can't help with that."


class _Refuser(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("stream"):
            parts = [
                {"choices": [{"index": 0, "delta": {"role": "assistant", "refusal": "I can't "}, "finish_reason": None}]},
                {"choices": [{"index": 0, "delta": {"refusal": "help with that."}, "finish_reason": "stop"}]},
            ]
            data = "".join(f"data: {json.dumps(p)}\n\n" for p in parts) + "data: [DONE]\n\n"
            payload, ctype = data.encode(), "text/event-stream"
        else:
            payload = json.dumps({
                "id": "chatcmpl-r", "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "refusal": REFUSAL},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
            }).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def refuser() -> Iterator[str]:
    with serving(_Refuser) as url:
        yield url + "/v1"


class Joke(BaseModel):
    setup: str
    punchline: str


def test_core_keeps_refusals_in_both_paths(refuser: str) -> None:
    client = B3nClient(api_key="sk-test", base_url=refuser)
    msgs = [{"role": "user", "content": "x"}]
    assert client.chat.create("gpt-4o", msgs).refusal == REFUSAL
    assert "".join(c.refusal for c in client.chat.stream("gpt-4o", msgs)) == REFUSAL


@pytest.mark.parametrize("method", ["json_schema", "json_mode"])
def test_structured_output_raises_model_refusal_error(refuser: str, method: str) -> None:
    llm = ChatB3n(model="gpt-4o", api_key="sk-test", base_url=refuser)
    structured = llm.with_structured_output(Joke, method=method)
    with pytest.raises(ModelRefusalError, match="help with that") as info:
        structured.invoke("Tell me a joke in JSON")
    assert info.value.raw_message is not None
    with pytest.raises(ModelRefusalError, match="help with that"):
        list(structured.stream("Tell me a joke in JSON"))


async def test_structured_output_refusal_async_and_include_raw(refuser: str) -> None:
    llm = ChatB3n(model="gpt-4o", api_key="sk-test", base_url=refuser)
    with pytest.raises(ModelRefusalError):
        await llm.with_structured_output(Joke).ainvoke("joke")
    result = llm.with_structured_output(Joke, include_raw=True).invoke("joke")
    assert result["parsed"] is None and isinstance(result["parsing_error"], ModelRefusalError)
    assert result["raw"].additional_kwargs["refusal"] == REFUSAL


def test_plain_invoke_and_stream_carry_the_refusal(refuser: str) -> None:
    llm = ChatB3n(model="gpt-4o", api_key="sk-test", base_url=refuser)
    assert llm.invoke("x").additional_kwargs["refusal"] == REFUSAL
    merged = None
    for chunk in llm.stream("x"):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None and merged.additional_kwargs["refusal"] == REFUSAL


def test_llamaindex_messages_carry_the_refusal(refuser: str) -> None:
    llm = B3n(model="gpt-4o", api_key="sk-test", api_base=refuser)
    msgs = [ChatMessage(role="user", content="x")]
    assert llm.chat(msgs).message.additional_kwargs["refusal"] == REFUSAL
    responses = list(llm.stream_chat(msgs))
    assert responses and responses[-1].message.additional_kwargs["refusal"] == REFUSAL
