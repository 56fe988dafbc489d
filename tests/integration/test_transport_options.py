"""verify / proxy / default headers reach the wire from every framework class."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from b3n._errors import B3nConnectionError
from b3n.testing import Emulator


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chat_lc(base_url: str, **kw: Any) -> Callable[[], object]:
    from langchain_b3n import ChatB3n

    model = ChatB3n(model="gpt-4o-mini", api_key="sk-test", base_url=base_url, max_retries=0, **kw)
    return lambda: model.invoke("hi")


def _chat_li(base_url: str, **kw: Any) -> Callable[[], object]:
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n

    llm = B3n(model="gpt-4o-mini", api_key="sk-test", api_base=base_url, max_retries=0, **kw)
    return lambda: llm.chat([ChatMessage(role="user", content="hi")])


def _emb_lc(base_url: str, **kw: Any) -> Callable[[], object]:
    from langchain_b3n import B3nEmbeddings

    emb = B3nEmbeddings(api_key="sk-test", base_url=base_url, max_retries=0, **kw)
    return lambda: emb.embed_query("hi")


def _emb_li(base_url: str, **kw: Any) -> Callable[[], object]:
    from llama_index_b3n import B3nEmbedding

    emb = B3nEmbedding(api_key="sk-test", api_base=base_url, max_retries=0, **kw)
    return lambda: emb.get_query_embedding("hi")


FACTORIES = {"ChatB3n": _chat_lc, "B3n": _chat_li, "B3nEmbeddings": _emb_lc, "B3nEmbedding": _emb_li}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_proxy_setting_is_used(emulator: Emulator, name: str) -> None:
    FACTORIES[name](emulator.base_url)()  # direct works
    call = FACTORIES[name](emulator.base_url, proxy=f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(B3nConnectionError):
        call()


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_verify_setting_is_accepted_and_plain_http_still_works(emulator: Emulator, name: str) -> None:
    FACTORIES[name](emulator.base_url, verify=False)()
    assert emulator.total_requests == 1
