"""Small wire details that mutation testing showed unguarded: Retry-After dates, assistant text going back out."""

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
