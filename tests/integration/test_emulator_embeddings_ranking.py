"""The emulator's embeddings rank a document that shares the query's content words above unrelated ones."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator

import pytest
from openai import OpenAI

from b3n.testing import Emulator

QUERY = "How many hours do cats sleep?"
RELATED = "A cat sleeps about sixteen hours a day."
#: unrelated documents, some full of the query's function words ("how", "do", "a", "the", ...)
UNRELATED = [
    "How do you do? What is it that you do all day?",
    "The stock market fell sharply on Monday.",
    "Quantum chromodynamics describes the strong interaction.",
    "Der Hund bellt in der Nacht – ünïcode ✓",
]


@pytest.fixture(scope="module")
def client() -> Iterator[OpenAI]:
    with Emulator() as emu:
        yield OpenAI(base_url=emu.base_url, api_key="sk-ranking-test", max_retries=0)


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _decode(b64: str) -> list[float]:
    raw = base64.b64decode(b64)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


@pytest.mark.parametrize(("model", "dimensions"), [("text-embedding-3-small", None), ("text-embedding-3-large", 256),
                                                    ("text-embedding-ada-002", None)])
def test_shared_words_rank_first(client: OpenAI, model: str, dimensions: int | None) -> None:
    texts = [QUERY, RELATED, *UNRELATED]
    extra = {"dimensions": dimensions} if dimensions else {}
    vectors = [d.embedding for d in client.embeddings.create(model=model, input=texts, **extra).data]  # type: ignore[arg-type]
    assert {len(v) for v in vectors} == {dimensions or (3072 if model.endswith("large") else 1536)}
    for v in vectors:
        assert math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-5)
    query, related, *others = vectors
    assert _cos(query, related) > 0.5
    for other, text in zip(others, UNRELATED, strict=True):
        assert _cos(query, related) > _cos(query, other) + 0.3, text


def test_base64_is_the_same_vector(client: OpenAI) -> None:
    texts = [QUERY, RELATED]
    floats = [d.embedding for d in client.embeddings.create(model="text-embedding-3-small", input=texts).data]
    raw = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input=texts,
                                                     encoding_format="base64").http_response.json()
    assert [_decode(d["embedding"]) for d in raw["data"]] == floats


def test_near_but_not_identical_for_reordered_words(client: OpenAI) -> None:
    a, b, c = (d.embedding for d in client.embeddings.create(
        model="text-embedding-3-small", input=["cats sleep all day", "all day cats sleep", "cats sleep all day"]).data)
    assert a == c  # deterministic
    assert 0.8 < _cos(a, b) < 0.9999  # the same words, another text
