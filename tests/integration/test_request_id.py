"""``include_request_id``: the relay's request id of a successful call lands in the metadata (to quote to B3n
support), in both frameworks; off by default."""

from __future__ import annotations

from b3n.testing import Emulator
from langchain_b3n import ChatB3n


def test_langchain_and_llamaindex_put_the_relay_request_id_in_metadata(emulator: Emulator, base_url: str,
                                                                         api_key: str) -> None:
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n

    reply = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url, include_request_id=True).invoke("hi")
    first = reply.response_metadata["request_id"]
    assert first == emulator.last_request().request_id
    plain = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url).invoke("hi")
    assert "request_id" not in plain.response_metadata
    response = B3n(model="claude-3-5-sonnet-latest", api_key=api_key, api_base=base_url,
                   include_request_id=True).chat([ChatMessage(role="user", content="hi")])
    second = response.additional_kwargs["request_id"]
    assert second == emulator.last_request().request_id and second != first


def test_streamed_calls_carry_the_request_id_once_in_langchain(emulator: Emulator, base_url: str,
                                                                api_key: str) -> None:
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url, include_request_id=True)
    chunks = list(llm.stream("say 1"))
    sent = emulator.last_request().request_id
    assert [c.response_metadata.get("request_id") for c in chunks][-1] == sent
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert whole.content == "1" and whole.response_metadata["request_id"] == sent  # once: not "idid"
    # a stream served from one call (o1-mini cannot stream upstream) carries it too, as does streaming=True invoke
    emulated = list(ChatB3n(model="o1-mini", api_key=api_key, base_url=base_url, include_request_id=True)
                    .stream("say 1"))
    assert emulated[-1].response_metadata["request_id"] == emulator.last_request().request_id
    streamed_invoke = ChatB3n(model="claude-3-5-sonnet-latest", api_key=api_key, base_url=base_url, streaming=True,
                              include_request_id=True).invoke("say 1")
    assert streamed_invoke.response_metadata["request_id"] == emulator.last_request().request_id
    assert all("request_id" not in c.response_metadata
               for c in ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url).stream("say 1"))


async def test_streamed_calls_carry_the_request_id_in_llamaindex(emulator: Emulator, base_url: str,
                                                                  api_key: str) -> None:
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n

    llm = B3n(model="gemini-1.5-flash-latest", api_key=api_key, api_base=base_url, include_request_id=True)
    responses = list(llm.stream_chat([ChatMessage(role="user", content="say 1")]))
    sent = emulator.last_request().request_id
    assert sent and all(r.additional_kwargs["request_id"] == sent for r in responses)
    assert responses[-1].raw["request_id"] == sent
    stream = await llm.astream_chat([ChatMessage(role="user", content="say 1")])
    last = [r async for r in stream][-1]
    assert last.additional_kwargs["request_id"] == emulator.last_request().request_id != sent
    plain = B3n(model="gemini-1.5-flash-latest", api_key=api_key, api_base=base_url)
    assert all("request_id" not in r.additional_kwargs
               for r in plain.stream_chat([ChatMessage(role="user", content="say 1")]))
