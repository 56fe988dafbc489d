"""B3nEmbeddings (LangChain) and B3nEmbedding (LlamaIndex) end to end against the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.documents import Document as LCDocument
from langchain_core.exceptions import ModelAuthenticationError, ModelRateLimitError
from langchain_core.vectorstores import InMemoryVectorStore
from llama_index.core import Document, VectorStoreIndex

from b3n._errors import B3nAuthenticationError, B3nInvalidRequestError
from b3n.testing import Emulator
from langchain_b3n.embeddings import B3nEmbeddings
from llama_index_b3n.embeddings import B3nEmbedding
from tests.conftest import sample_peak

CORPUS = [
    "The capital of France is Paris.",
    "Photosynthesis converts light into chemical energy.",
    "The B3n relay speaks the OpenAI protocol.",
    "Rust guarantees memory safety without a garbage collector.",
    "Whales are mammals that live in the ocean.",
]


def _last_json(emulator: Emulator) -> Any:
    """Body of the last embeddings request the emulator received."""
    record = emulator.last_request("embeddings")
    assert record is not None
    return record.json


@pytest.fixture
def lc_emb(base_url: str, api_key: str) -> B3nEmbeddings:
    return B3nEmbeddings(api_key=api_key, base_url=base_url, dimensions=256)


@pytest.fixture
def li_emb(base_url: str, api_key: str) -> B3nEmbedding:
    return B3nEmbedding(api_key=api_key, api_base=base_url, dimensions=256)


# ----------------------------------------------------------------------------- LangChain


def test_langchain_in_memory_vector_store_finds_the_identical_text(lc_emb: B3nEmbeddings,
                                                                   emulator: Emulator) -> None:
    store = InMemoryVectorStore(lc_emb)
    store.add_documents([LCDocument(page_content=t, metadata={"i": i}) for i, t in enumerate(CORPUS)])
    for i, text in enumerate(CORPUS):
        hits = store.similarity_search(text, k=2)
        assert hits[0].page_content == text and hits[0].metadata["i"] == i
    assert _last_json(emulator)["dimensions"] == 256


async def test_langchain_async_vector_store(lc_emb: B3nEmbeddings) -> None:
    store = await InMemoryVectorStore.afrom_texts(CORPUS, lc_emb)
    hits = await store.asimilarity_search(CORPUS[3], k=1)
    assert hits[0].page_content == CORPUS[3]


async def test_langchain_query_and_document_vectors_agree(lc_emb: B3nEmbeddings) -> None:
    docs = lc_emb.embed_documents(CORPUS)
    assert lc_emb.embed_query(CORPUS[1]) == docs[1]
    assert await lc_emb.aembed_query(CORPUS[1]) == docs[1]
    assert await lc_emb.aembed_documents(CORPUS) == docs
    assert all(len(v) == 256 for v in docs)


def test_langchain_batches_and_empty_strings(base_url: str, api_key: str, emulator: Emulator) -> None:
    emb = B3nEmbeddings(api_key=api_key, base_url=base_url, batch_size=3, dimensions=8)
    vectors = emb.embed_documents(["", *CORPUS])
    assert len(vectors) == 6 and emulator.count("embeddings") == 2
    assert vectors[0] == emb.embed_query("")


async def test_langchain_errors_are_hybrids(lc_emb: B3nEmbeddings, emulator: Emulator) -> None:
    emulator.inject("auth", route="embeddings")
    with pytest.raises(ModelAuthenticationError) as sync_info:
        lc_emb.embed_documents(CORPUS)
    assert isinstance(sync_info.value, B3nAuthenticationError) and sync_info.value.status_code == 401
    emulator.inject("auth", route="embeddings")
    with pytest.raises(ModelAuthenticationError):
        await lc_emb.aembed_query("hi")


def test_langchain_rate_limit_after_retries_is_model_rate_limit_error(base_url: str, api_key: str,
                                                                      emulator: Emulator) -> None:
    emb = B3nEmbeddings(api_key=api_key, base_url=base_url, max_retries=1)
    emulator.inject("rate_limit", route="embeddings", times=2, retry_after=0)
    with pytest.raises(ModelRateLimitError):
        emb.embed_query("hi")
    assert emulator.count("embeddings") == 2


async def test_langchain_concurrent_calls_share_the_concurrency_bound(base_url: str, api_key: str,
                                                                      emulator: Emulator) -> None:
    emb = B3nEmbeddings(api_key=api_key, base_url=base_url, batch_size=5, max_concurrency=2, dimensions=8)
    emulator.latency = 0.1
    with sample_peak(emulator) as peak:
        results = await asyncio.gather(*(emb.aembed_documents(CORPUS * 2) for _ in range(3)))
    assert all(len(r) == 10 for r in results) and emulator.count("embeddings") == 6
    assert peak.peak == 2


def test_langchain_progress_bar(base_url: str, api_key: str, capsys: pytest.CaptureFixture[str]) -> None:
    emb = B3nEmbeddings(api_key=api_key, base_url=base_url, batch_size=2, show_progress_bar=True, dimensions=8)
    emb.embed_documents(CORPUS)
    err = capsys.readouterr().err
    assert "Embedding" in err and "5/5" in err


def test_langchain_float_encoding_gives_the_same_float32_vectors(base_url: str, api_key: str,
                                                                 emulator: Emulator) -> None:
    from array import array

    auto = B3nEmbeddings(api_key=api_key, base_url=base_url).embed_documents(CORPUS)
    flt = B3nEmbeddings(api_key=api_key, base_url=base_url, encoding_format="float").embed_documents(CORPUS)
    assert [r.json["encoding_format"] for r in emulator.requests] == ["base64", "float"]
    assert [array("f", v) for v in auto] == [array("f", v) for v in flt]


# ----------------------------------------------------------------------------- LlamaIndex


def test_llamaindex_vector_store_index_retrieves_the_identical_text(li_emb: B3nEmbedding,
                                                                    emulator: Emulator) -> None:
    index = VectorStoreIndex.from_documents([Document(text=t) for t in CORPUS], embed_model=li_emb)
    retriever = index.as_retriever(similarity_top_k=2)
    for text in CORPUS:
        assert retriever.retrieve(text)[0].node.get_content() == text
    assert _last_json(emulator)["dimensions"] == 256


async def test_llamaindex_async_index_and_retrieval(li_emb: B3nEmbedding) -> None:
    index = VectorStoreIndex.from_documents([Document(text=t) for t in CORPUS], embed_model=li_emb, use_async=True)
    nodes = await index.as_retriever(similarity_top_k=1).aretrieve(CORPUS[2])
    assert nodes[0].node.get_content() == CORPUS[2]


async def test_llamaindex_query_and_text_vectors_agree(li_emb: B3nEmbedding) -> None:
    texts = li_emb.get_text_embedding_batch(CORPUS)
    assert li_emb.get_query_embedding(CORPUS[0]) == texts[0]
    assert li_emb.get_text_embedding(CORPUS[0]) == texts[0]
    assert await li_emb.aget_query_embedding(CORPUS[0]) == texts[0]
    assert await li_emb.aget_text_embedding(CORPUS[0]) == texts[0]
    assert await li_emb.aget_text_embedding_batch(CORPUS) == texts
    assert all(len(v) == 256 and isinstance(v[0], float) for v in texts)


async def test_llamaindex_gathered_batches_stay_within_max_concurrency(base_url: str, api_key: str,
                                                                       emulator: Emulator) -> None:
    emb = B3nEmbedding(api_key=api_key, api_base=base_url, embed_batch_size=10, max_concurrency=2, dimensions=8)
    emulator.latency = 0.05
    texts = [f"{t} #{i}" for i in range(20) for t in CORPUS]  # 100 texts -> 10 batches gathered at once
    with sample_peak(emulator) as peak:
        vectors = await emb.aget_text_embedding_batch(texts)
    assert len(vectors) == 100 and emulator.count("embeddings") == 10
    assert peak.peak == 2
    assert vectors == emb.get_text_embedding_batch(texts)  # same order sync and async


def test_llamaindex_ada_dimensions_and_errors(base_url: str, api_key: str, emulator: Emulator) -> None:
    with pytest.raises(B3nInvalidRequestError):
        B3nEmbedding(model_name="text-embedding-ada-002", dimensions=8, api_key=api_key, api_base=base_url)
    ada = B3nEmbedding(model_name="text-embedding-ada-002", api_key=api_key, api_base=base_url)
    assert len(ada.get_query_embedding("hi")) == 1536
    emulator.inject("auth", route="embeddings")
    with pytest.raises(B3nAuthenticationError):
        ada.get_text_embedding_batch(CORPUS)


def test_llamaindex_empty_string_and_show_progress(base_url: str, api_key: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    emb = B3nEmbedding(api_key=api_key, api_base=base_url, dimensions=8, show_progress=True)
    vectors = emb.get_text_embedding_batch(["", "x"])
    assert vectors[0] == emb.get_query_embedding(" ")
    assert "Generating embeddings" in capsys.readouterr().err
