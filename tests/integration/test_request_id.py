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
