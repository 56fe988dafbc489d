"""Small details that mutation testing showed unguarded: Retry-After dates, messages to and from the frameworks."""

from __future__ import annotations

import email.utils
import time

from langchain_core.messages import AIMessage

from b3n._retry import parse_retry_after
from langchain_b3n._messages import message_to_wire


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    wait = parse_retry_after(email.utils.formatdate(time.time() + 120, usegmt=True))
    assert wait is not None and 110 <= wait <= 121


def test_assistant_text_goes_back_out_as_it_came() -> None:
    assert message_to_wire(AIMessage("Grüße, Zürich")) == {"role": "assistant", "content": "Grüße, Zürich"}
    assert message_to_wire(AIMessage(["a", {"type": "text", "text": "b"}]))["content"] == "ab"


def test_langchain_stream_converter_defaults_to_plain_text_content() -> None:
    from b3n._chat import ChatChunk
    from langchain_b3n._messages import StreamConverter

    assert StreamConverter().convert(ChatChunk(content="Grüße")).message.content == "Grüße"
    assert isinstance(StreamConverter(v1=True).convert(ChatChunk(content="Grüße")).message.content, list)


def test_llamaindex_stream_keeps_the_request_id_and_logprob_bytes() -> None:
    from b3n._chat import ChatChunk
    from llama_index_b3n._messages import StreamConverter, to_logprobs

    response = StreamConverter(include_request_id=True).convert(ChatChunk(content="a", request_id="req-7"))
    assert response.additional_kwargs["request_id"] == "req-7"
    assert "request_id" not in StreamConverter().convert(ChatChunk(content="a", request_id="r")).additional_kwargs
    [[prob]] = to_logprobs([{"token": "Hi", "logprob": -0.5, "bytes": [72, 105]}]) or [[]]
    assert (prob.token, prob.logprob, prob.bytes) == ("Hi", -0.5, [72, 105])


def test_a_limiter_describes_itself() -> None:
    from b3n._adaptive import AdaptiveLimiter

    assert repr(AdaptiveLimiter(4)).startswith("AdaptiveLimiter(limit=")
