"""The clients under test: ours, the anchors a user would pick instead, and bare httpx.

Every contender is pointed at the same emulator and asked the same thing. Each factory
returns plain callables so that the measuring code is identical for everybody.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

KEY = "sk-bench0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
MODEL = "gpt-4o-mini"
PROMPT = "say 1"
EMBED_MODEL = "text-embedding-3-small"

#: what a hand-written client sends (the minimal body every contender's payload contains).
BARE_PAYLOAD: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
#: the bare clients may open every connection of the 200-call burst at once (httpx's default of 100
#: would queue half of it); keep-alive stays at httpx's default of 20 (more idle connections make
#: httpcore 1.0's pool quadratic, which would flatter us; see b3n/transport.py).
BARE_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=20)


@dataclass
class ChatContender:
    key: str
    label: str
    framework: str  # "langchain" | "llamaindex" | "bare"
    ours: bool
    invoke: Callable[[], str]
    stream: Callable[[], list[str]]
    #: built inside the running loop (async clients are loop-bound)
    make_ainvoke: Callable[[], Callable[[], Awaitable[str]]]


def _lc_ours(base_url: str) -> ChatContender:
    from langchain_b3n import ChatB3n

    llm = ChatB3n(model=MODEL, api_key=KEY, base_url=base_url)

    def ainvoke_factory() -> Callable[[], Awaitable[str]]:
        async def ainvoke() -> str:
            return str((await llm.ainvoke(PROMPT)).content)

        return ainvoke

    return ChatContender(
        "lc_ours", "ChatB3n (ours)", "langchain", True,
        invoke=lambda: str(llm.invoke(PROMPT).content),
        stream=lambda: [str(c.content) for c in llm.stream(PROMPT)],
        make_ainvoke=ainvoke_factory,
    )


def _lc_anchor(base_url: str) -> ChatContender:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model=MODEL, api_key=KEY, base_url=base_url)  # type: ignore[arg-type]

    def ainvoke_factory() -> Callable[[], Awaitable[str]]:
        async def ainvoke() -> str:
            return str((await llm.ainvoke(PROMPT)).content)

        return ainvoke

    return ChatContender(
        "lc_anchor", "ChatOpenAI", "langchain", False,
        invoke=lambda: str(llm.invoke(PROMPT).content),
        stream=lambda: [str(c.content) for c in llm.stream(PROMPT)],
        make_ainvoke=ainvoke_factory,
    )


def _li_messages() -> Any:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content=PROMPT)]


def _li_ours(base_url: str) -> ChatContender:
    from llama_index_b3n import B3n

    llm = B3n(model=MODEL, api_key=KEY, api_base=base_url)
    messages = _li_messages()

    def ainvoke_factory() -> Callable[[], Awaitable[str]]:
        async def achat() -> str:
            return str((await llm.achat(messages)).message.content)

        return achat

    return ChatContender(
        "li_ours", "B3n (ours, LlamaIndex)", "llamaindex", True,
        invoke=lambda: str(llm.chat(messages).message.content),
        stream=lambda: [r.delta or "" for r in llm.stream_chat(messages)],
        make_ainvoke=ainvoke_factory,
    )


def _li_anchor(base_url: str) -> ChatContender:
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(model=MODEL, api_key=KEY, api_base=base_url, is_chat_model=True)
    messages = _li_messages()

    def ainvoke_factory() -> Callable[[], Awaitable[str]]:
        async def achat() -> str:
            return str((await llm.achat(messages)).message.content)

        return achat

    return ChatContender(
        "li_anchor", "OpenAILike", "llamaindex", False,
        invoke=lambda: str(llm.chat(messages).message.content),
        stream=lambda: [r.delta or "" for r in llm.stream_chat(messages)],
        make_ainvoke=ainvoke_factory,
    )


def _core(base_url: str) -> ChatContender:
    """Our shared core alone (no framework): where the adapters' time goes is the difference."""
    from b3n import AsyncB3nClient, B3nClient

    client = B3nClient(api_key=KEY, base_url=base_url)
    messages = [{"role": "user", "content": PROMPT}]

    def ainvoke_factory() -> Callable[[], Awaitable[str]]:
        aclient = AsyncB3nClient(api_key=KEY, base_url=base_url)

        async def create() -> str:
            return (await aclient.chat.create(MODEL, messages)).content

        return create

    return ChatContender(
        "core", "B3nClient.chat (our core, no framework)", "core", True,
        invoke=lambda: client.chat.create(MODEL, messages).content,
        stream=lambda: [c.content for c in client.chat.stream(MODEL, messages)],
        make_ainvoke=ainvoke_factory,
    )


def _bare(base_url: str) -> ChatContender:
    from httpx_sse import connect_sse

    url = base_url + "/chat/completions"
    headers = {"Authorization": f"Bearer {KEY}"}
    client = httpx.Client(limits=BARE_LIMITS)
    stream_payload = {**BARE_PAYLOAD, "stream": True, "stream_options": {"include_usage": True}}

    def invoke() -> str:
        body = client.post(url, json=BARE_PAYLOAD, headers=headers).json()
        return str(body["choices"][0]["message"]["content"])

    def stream() -> list[str]:
        out: list[str] = []
        with connect_sse(client, "POST", url, json=stream_payload, headers=headers) as events:
            for event in events.iter_sse():
                if event.data == "[DONE]":
                    break
                chunk = json.loads(event.data)
                for choice in chunk.get("choices") or ():
                    out.append(choice["delta"].get("content") or "")
        return out

    return ChatContender(
        "bare", "bare httpx (+httpx-sse)", "bare", False, invoke=invoke, stream=stream,
        make_ainvoke=lambda: bare_ainvoke(base_url, BARE_LIMITS),
    )


def bare_ainvoke(base_url: str, limits: httpx.Limits | None) -> Callable[[], Awaitable[str]]:
    """One ``httpx.AsyncClient.post`` + ``.json()`` per call (``limits=None``: httpx's defaults)."""
    aclient = httpx.AsyncClient(limits=limits) if limits is not None else httpx.AsyncClient()
    url = base_url + "/chat/completions"
    headers = {"Authorization": f"Bearer {KEY}"}

    async def ainvoke() -> str:
        body = (await aclient.post(url, json=BARE_PAYLOAD, headers=headers)).json()
        return str(body["choices"][0]["message"]["content"])

    return ainvoke


CHAT_FACTORIES: dict[str, Callable[[str], ChatContender]] = {
    "lc_ours": _lc_ours,
    "lc_anchor": _lc_anchor,
    "li_ours": _li_ours,
    "li_anchor": _li_anchor,
    "core": _core,
    "bare": _bare,
}


def chat_contenders(base_url: str, errors: dict[str, str], check: bool = True) -> list[ChatContender]:
    """Every chat contender that can be built; failures are recorded in ``errors`` (never hidden).

    ``check`` makes one call each and insists on the emulator's answer to "say 1".
    """
    out: list[ChatContender] = []
    for key, factory in CHAT_FACTORIES.items():
        try:
            contender = factory(base_url)
            reply = contender.invoke() if check else "1"
            if reply.strip() != "1":
                raise RuntimeError(f"unexpected reply {reply[:80]!r}")
        except Exception as exc:
            errors[key] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        out.append(contender)
    return out


# ----------------------------------------------------------------------------- embeddings


@dataclass
class EmbedContender:
    key: str
    label: str
    framework: str
    ours: bool
    mode: str  # "sync" | "async"
    run: Callable[[list[str]], list[list[float]]]
    note: str = ""


def _sync(fn: Callable[[list[str]], list[list[float]]]) -> Callable[[list[str]], list[list[float]]]:
    return fn


def _async(make: Callable[[], Callable[[list[str]], Awaitable[list[list[float]]]]]) -> Callable[
    [list[str]], list[list[float]]
]:
    """Run an async embedding call in a fresh event loop (the object is built inside that loop)."""

    def run(texts: list[str]) -> list[list[float]]:
        async def main() -> list[list[float]]:
            return await make()(texts)

        return asyncio.run(main())

    return run


def embed_contenders(base_url: str, tiktoken_ok: bool) -> list[EmbedContender]:
    from langchain_openai import OpenAIEmbeddings
    from llama_index.embeddings.openai import OpenAIEmbedding

    from langchain_b3n import B3nEmbeddings
    from llama_index_b3n import B3nEmbedding

    lc = B3nEmbeddings(api_key=KEY, base_url=base_url)
    li = B3nEmbedding(api_key=KEY, api_base=base_url)
    lc_anchor = OpenAIEmbeddings(api_key=KEY, base_url=base_url, check_embedding_ctx_length=False)  # type: ignore[arg-type]
    li_anchor = OpenAIEmbedding(model_name=EMBED_MODEL, api_key=KEY, api_base=base_url)
    out = [
        EmbedContender("lc_ours_sync", "B3nEmbeddings.embed_documents", "langchain", True, "sync",
                       lc.embed_documents),
        EmbedContender("lc_ours_async", "B3nEmbeddings.aembed_documents", "langchain", True, "async",
                       _async(lambda: B3nEmbeddings(api_key=KEY, base_url=base_url).aembed_documents)),
        EmbedContender("lc_anchor_sync", "OpenAIEmbeddings(check_embedding_ctx_length=False).embed_documents",
                       "langchain", False, "sync", lc_anchor.embed_documents),
        EmbedContender("lc_anchor_async", "OpenAIEmbeddings(check_embedding_ctx_length=False).aembed_documents",
                       "langchain", False, "async", _async(lambda: lc_anchor.aembed_documents)),
        EmbedContender("li_ours_sync", "B3nEmbedding.get_text_embedding_batch", "llamaindex", True, "sync",
                       li.get_text_embedding_batch),
        EmbedContender("li_ours_async", "B3nEmbedding.aget_text_embedding_batch", "llamaindex", True, "async",
                       _async(lambda: B3nEmbedding(api_key=KEY, api_base=base_url).aget_text_embedding_batch)),
        EmbedContender("li_anchor_sync", "OpenAIEmbedding.get_text_embedding_batch", "llamaindex", False, "sync",
                       li_anchor.get_text_embedding_batch),
        EmbedContender("li_anchor_async", "OpenAIEmbedding.aget_text_embedding_batch", "llamaindex", False,
                       "async", _async(lambda: OpenAIEmbedding(
                           model_name=EMBED_MODEL, api_key=KEY, api_base=base_url).aget_text_embedding_batch)),
    ]
    if tiktoken_ok:
        defaults = OpenAIEmbeddings(api_key=KEY, base_url=base_url)  # type: ignore[arg-type]
        out.append(EmbedContender("lc_anchor_defaults", "OpenAIEmbeddings() defaults (tiktoken)", "langchain",
                                  False, "sync", defaults.embed_documents))
    out.append(EmbedContender("bare_sync", "bare httpx, 2048/request, base64", "bare", False, "sync",
                              _bare_embed(base_url)))
    return out


def _bare_embed(base_url: str) -> Callable[[list[str]], list[list[float]]]:
    import base64
    from array import array

    client = httpx.Client(limits=BARE_LIMITS)
    headers = {"Authorization": f"Bearer {KEY}"}

    def run(texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), 2048):
            body = client.post(
                base_url + "/embeddings", headers=headers,
                json={"model": EMBED_MODEL, "input": texts[start:start + 2048], "encoding_format": "base64"},
            ).json()
            for item in sorted(body["data"], key=lambda d: d["index"]):
                vec = array("f")
                vec.frombytes(base64.b64decode(item["embedding"]))
                out.append(vec.tolist())
        return out

    return run


def embedding_texts(n: int) -> list[str]:
    """``n`` short, distinct texts (distinct so no cache anywhere can serve repeats)."""
    return [f"Chunk {i}: the quick brown fox {i % 97} jumps over the lazy dog near river {i % 13}." for i in range(n)]
