"""End-to-end RAG: ``VectorStoreIndex`` with ``B3nEmbedding`` and ``B3n`` answers a query (emulator)."""

from __future__ import annotations

import pytest
from llama_index.core import Document, VectorStoreIndex

from b3n.testing import Emulator
from llama_index_b3n import B3n, B3nEmbedding

DOCS = [
    Document(text="The Eiffel Tower is in Paris. It was completed in 1889.", metadata={"topic": "paris"}),
    Document(text="Mount Fuji is the highest mountain in Japan. It last erupted in 1707.", metadata={"topic": "japan"}),
    Document(text="The Amazon river flows through Brazil. It carries more water than any other river."),
    Document(text="Honey bees communicate through a waggle dance. A colony can hold fifty thousand bees."),
    Document(text="The Great Barrier Reef lies off the coast of Australia. It is visible from space."),
]
QUESTION = "When did Mount Fuji last erupt?"


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "o1-mini"])
async def test_vector_store_index_answers_a_query(emulator: Emulator, api_key: str, model: str) -> None:
    embed = B3nEmbedding(api_key=api_key, api_base=emulator.base_url)
    llm = B3n(model=model, api_key=api_key, api_base=emulator.base_url)
    index = VectorStoreIndex.from_documents(DOCS, embed_model=embed)
    assert emulator.count("embeddings") >= 1

    engine = index.as_query_engine(llm=llm, similarity_top_k=2)
    response = engine.query(QUESTION)
    assert "1707" in str(response)
    assert any("Mount Fuji" in n.node.get_content() for n in response.source_nodes)
    prompt = emulator.last_request("chat").json["messages"]  # type: ignore[union-attr]
    assert any("Mount Fuji is the highest mountain" in str(m["content"]) for m in prompt)

    streaming = index.as_query_engine(llm=llm, similarity_top_k=2, streaming=True)
    streamed = streaming.query(QUESTION)
    assert "1707" in "".join(streamed.response_gen)  # type: ignore[union-attr]

    aresponse = await engine.aquery(QUESTION)
    assert "1707" in str(aresponse)

