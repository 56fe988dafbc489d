"""LlamaIndex ``CachePoint`` placement: the marker goes on the part just before it, and only there."""

from __future__ import annotations

import pytest
from llama_index.core.llms import CacheControl, CachePoint, ChatMessage, TextBlock

from b3n import B3nInvalidRequestError
from llama_index_b3n._messages import message_to_wire

MARK = CachePoint(cache_control=CacheControl(type="ephemeral"))
CONTROL = MARK.cache_control.model_dump(exclude_none=True)  # {"type": "ephemeral", "ttl": "5m"}


def test_the_marker_lands_on_the_block_before_it() -> None:
    wire = message_to_wire(ChatMessage(role="system", blocks=[
        TextBlock(text="Grüße, rules"), TextBlock(text="long context"), MARK, TextBlock(text="tail")]))
    assert wire["content"] == [
        {"type": "text", "text": "Grüße, rules"},
        {"type": "text", "text": "long context", "cache_control": CONTROL},
        {"type": "text", "text": "tail"},
    ]


def test_a_marker_with_nothing_before_it_is_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="starts with a CachePoint"):
        message_to_wire(ChatMessage(role="user", blocks=[MARK, TextBlock(text="hi")]))


def test_without_a_marker_the_content_stays_plain_text() -> None:
    wire = message_to_wire(ChatMessage(role="user", blocks=[TextBlock(text="a"), TextBlock(text="b")]))
    assert wire["content"] == "a\nb"
