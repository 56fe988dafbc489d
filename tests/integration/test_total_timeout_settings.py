"""``total_timeout`` reaches the wire from every framework class: a relay that keeps failing is given up on in time."""

from __future__ import annotations

import time

import pytest

from b3n import B3nTimeoutError
from b3n.testing import Emulator
from langchain_b3n import B3nEmbeddings, ChatB3n
from llama_index_b3n import B3n, B3nEmbedding


def _failing(emulator: Emulator, route: str) -> None:
    emulator.set_fault_rate("server_error", 1.0, route=route, status=503)


def _timed(call: object) -> tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises(B3nTimeoutError) as info:
        call()  # type: ignore[operator]
    return info.value, time.monotonic() - start


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_total_timeout_caps_a_chat_call_with_many_retries(emulator: Emulator, api_key: str, framework: str) -> None:
    _failing(emulator, "chat")
    if framework == "langchain":
        llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=emulator.base_url, max_retries=30,
                      total_timeout=1.5)
        err, elapsed = _timed(lambda: llm.invoke("hello"))
    else:
        li = B3n(model="gpt-4o-mini", api_key=api_key, api_base=emulator.base_url, max_retries=30, total_timeout=1.5)
        err, elapsed = _timed(lambda: li.complete("hello"))
    assert "total_timeout" in str(err)
    assert elapsed < 4.0, elapsed
    assert 1 <= emulator.count("chat") < 31


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_total_timeout_caps_an_embeddings_call(emulator: Emulator, api_key: str, framework: str) -> None:
    _failing(emulator, "embeddings")
    if framework == "langchain":
        emb = B3nEmbeddings(api_key=api_key, base_url=emulator.base_url, max_retries=30, total_timeout=1.5)
        err, elapsed = _timed(lambda: emb.embed_query("hello"))
    else:
        li = B3nEmbedding(api_key=api_key, api_base=emulator.base_url, max_retries=30, total_timeout=1.5)
        err, elapsed = _timed(lambda: li.get_text_embedding("hello"))
    assert "total_timeout" in str(err)
    assert elapsed < 4.0, elapsed


def test_without_total_timeout_the_same_relay_is_retried_past_it(emulator: Emulator, api_key: str) -> None:
    """The control: the cap above is what ended those calls, not max_retries."""
    _failing(emulator, "chat")
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=emulator.base_url, max_retries=6)
    start = time.monotonic()
    with pytest.raises(Exception) as info:
        llm.invoke("hello")
    assert not isinstance(info.value, B3nTimeoutError)
    assert emulator.count("chat") == 7
    assert time.monotonic() - start > 1.5
