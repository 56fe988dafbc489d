"""Stream and reply assembly at its edges, each served by a small loopback relay.

- a stream that ends cleanly (the body is complete) but never sent ``[DONE]`` is not a finished answer:
  a typed error keeps the partial output;
- ``data:`` with no space before the JSON is still an event;
- usage on two chunks: the last one counts (OpenAI sends usage once, on the last chunk; relays that
  send running totals send the final total last);
- tool-call fragments of two calls interleaved by index are put back together per call;
- two choices sharing index 0 that both carry text (Claude relays) keep both texts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from b3n import B3nClient, B3nStreamInterruptedError
from langchain_b3n import ChatB3n
from tests.hostile import HostileServer

HELLO = [{"role": "user", "content": "hi"}]


def _chunk(delta: dict[str, Any] | None = None, finish: str | None = None, usage: Any = None,
           sep: bytes = b"data: ") -> bytes:
    body: dict[str, Any] = {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o-mini",
                            "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        body["usage"] = usage
    return sep + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"


def _serve_sse(body: bytes) -> HostileServer:
    return HostileServer(lambda h, n: h.reply(200, body, content_type="text/event-stream"))


def _client(relay: HostileServer) -> B3nClient:
    return B3nClient(api_key="sk-edges", base_url=relay.url + "/v1", max_retries=0)


def test_a_complete_body_without_done_is_an_interrupted_stream_with_the_partial_output() -> None:
    body = _chunk({"role": "assistant", "content": "Grüße "}) + _chunk({"content": "aus"})
    with _serve_sse(body) as relay:
        received: list[str] = []
        with pytest.raises(B3nStreamInterruptedError, match=r"ended without \[DONE\]") as caught:
            for chunk in _client(relay).chat.stream("gpt-4o-mini", HELLO):
                received.append(chunk.content)
        assert relay.count("/chat/completions") == 1
    assert "".join(received) == "Grüße aus"
    assert caught.value.partial.content == "Grüße aus"


def test_langchain_stream_without_done_raises_instead_of_finishing() -> None:
    body = _chunk({"role": "assistant", "content": "half an answer"})
    with _serve_sse(body) as relay:
        llm = ChatB3n(api_key="sk-edges", base_url=relay.url + "/v1", max_retries=0)
        with pytest.raises(B3nStreamInterruptedError, match=r"ended without \[DONE\]"):
            list(llm.stream("hi"))


def test_a_stream_that_sent_its_finish_reason_may_omit_done() -> None:
    # relays that close right after the finish reason: the answer is complete, so it is delivered
    body = _chunk({"role": "assistant", "content": "whole answer"}, finish="stop")
    with _serve_sse(body) as relay:
        chunks = list(_client(relay).chat.stream("gpt-4o-mini", HELLO))
    assert "".join(c.content for c in chunks) == "whole answer" and chunks[-1].finish_reason == "stop"


def test_data_without_a_space_is_still_an_event() -> None:
    body = _chunk({"content": "no"}, sep=b"data:") + _chunk({"content": " space"}, finish="stop") + b"data:[DONE]\n\n"
    with _serve_sse(body) as relay:
        chunks = list(_client(relay).chat.stream("gpt-4o-mini", HELLO))
    assert "".join(c.content for c in chunks) == "no space"
    assert chunks[-1].final and chunks[-1].finish_reason == "stop"


def test_usage_on_two_chunks_the_last_one_counts() -> None:
    body = (_chunk({"content": "Hi"}, usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2})
            + _chunk({}, finish="stop")
            + _chunk(None, usage={"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13})
            + b"data: [DONE]\n\n")
    with _serve_sse(body) as relay:
        final = list(_client(relay).chat.stream("gpt-4o-mini", HELLO))[-1]
        message = None
        for piece in ChatB3n(api_key="sk-edges", base_url=relay.url + "/v1", max_retries=0).stream("hi"):
            message = piece if message is None else message + piece
    assert final.usage is not None and final.usage.as_dict() == {
        "prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
    assert message is not None and message.usage_metadata is not None
    assert (message.usage_metadata["input_tokens"], message.usage_metadata["total_tokens"]) == (9, 13)


def test_interleaved_fragments_of_two_tool_calls_are_kept_apart() -> None:
    def call(index: int, args: str, call_id: str | None = None, name: str | None = None) -> dict[str, Any]:
        fragment: dict[str, Any] = {"index": index, "function": {"arguments": args}}
        if call_id:
            fragment.update(id=call_id, type="function")
            fragment["function"]["name"] = name
        return {"tool_calls": [fragment]}

    body = (_chunk(call(0, '{"city": "Zü', "call_a", "weather"))
            + _chunk(call(1, '{"q": "Gr', "call_b", "search"))
            + _chunk(call(0, 'rich"}'))
            + _chunk(call(1, 'üße"}'), finish="tool_calls")
            + b"data: [DONE]\n\n")
    with _serve_sse(body) as relay:
        message = None
        for piece in ChatB3n(api_key="sk-edges", base_url=relay.url + "/v1", max_retries=0).stream("hi"):
            message = piece if message is None else message + piece
    assert message is not None
    assert [(c["id"], c["name"], c["args"]) for c in message.tool_calls] == [
        ("call_a", "weather", {"city": "Zürich"}), ("call_b", "search", {"q": "Grüße"})]
    assert message.response_metadata["finish_reason"] == "tool_calls"


def test_two_same_index_choices_that_both_carry_text_keep_both() -> None:
    body = json.dumps({"id": "c1", "model": "claude-3-5-sonnet-latest", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Erste Antwort."}, "finish_reason": "stop"},
        {"index": 0, "message": {"role": "assistant", "content": "Second part.", "tool_calls": [
            {"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
         "finish_reason": "tool_calls"},
    ]}).encode()
    with HostileServer(lambda h, n: h.reply(200, body)) as relay:
        completion = _client(relay).chat.create("claude-3-5-sonnet-latest", HELLO)
    assert completion.content == "Erste Antwort.\n\nSecond part."
    assert [c.name for c in completion.tool_calls] == ["f"] and completion.finish_reason == "tool_calls"
    assert completion.more_choices == []


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_stream_cut_after_content_is_never_retried(twin: str) -> None:
    import asyncio

    from b3n import AsyncB3nClient

    def cut(h: Any, n: int) -> None:  # announces more bytes than it sends: an incomplete body, not a clean end
        h.start(200, "text/event-stream", length=100_000)
        h.send(_chunk({"role": "assistant", "content": "Grüße"}))
        h.hang_up()

    with HostileServer(cut) as relay:
        kwargs: dict[str, Any] = {"api_key": "sk-edges", "base_url": relay.url + "/v1", "max_retries": 3}
        received: list[str] = []
        with pytest.raises(B3nStreamInterruptedError) as caught:
            if twin == "sync":
                for chunk in B3nClient(**kwargs).chat.stream("gpt-4o-mini", HELLO):
                    received.append(chunk.content)
            else:
                async def consume() -> None:
                    async for chunk in AsyncB3nClient(**kwargs).chat.stream("gpt-4o-mini", HELLO):
                        received.append(chunk.content)

                asyncio.run(consume())
        assert relay.count("/chat/completions") == 1  # content was delivered: a retry could duplicate it
    assert received == ["Grüße"] and caught.value.partial.content == "Grüße"
