"""Embedding inputs longer than the model's context: split and averaged (default) or refused before sending,
never a relay 400 in the middle of a job; both frameworks, sync and async, lists and float32 arrays."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from b3n import B3nClient, B3nInvalidRequestError
from b3n.testing import Emulator
from langchain_b3n import B3nEmbeddings

LONG = " ".join(f"Paragraph {i} explains how relays bill tokens and why long inputs need care." for i in range(1500))


def _job(n: int = 40) -> list[str]:
    texts = [f"short text number {i}" for i in range(n)]
    texts[7] = LONG
    texts[29] = LONG + " the end"
    return texts


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_the_relay_refuses_a_long_text_so_a_job_would_fail_midway(emulator: Emulator, base_url: str,
                                                                   api_key: str) -> None:
    client = B3nClient(api_key=api_key, base_url=base_url)
    with pytest.raises(Exception, match="maximum context length"):
        client.embeddings.create_batch([LONG])


def test_long_texts_are_split_and_averaged(emulator: Emulator, base_url: str, api_key: str) -> None:
    embeddings = B3nEmbeddings(api_key=api_key, base_url=base_url, batch_size=16)
    vectors = embeddings.embed_documents(_job())
    assert len(vectors) == 40 and emulator.count("embeddings") >= 3
    assert all(r.status == 200 for r in emulator.requests)
    long_vector = vectors[7]
    assert abs(math.sqrt(sum(x * x for x in long_vector)) - 1.0) < 1e-6  # the average is unit length again
    assert _cos(long_vector, vectors[29]) > 0.99
    pieces = [t for r in emulator.requests for t in r.json["input"] if t not in _job()]
    assert len(pieces) >= 4  # each long text went out as several pieces
    one_piece = B3nEmbeddings(api_key=api_key, base_url=base_url).embed_query(pieces[0])
    assert _cos(long_vector, one_piece) > 0.5  # the average points the way its pieces do
    assert embeddings.embed_documents(["short text number 3"])[0] == vectors[3]


def test_arrays_and_async_are_split_too(emulator: Emulator, base_url: str, api_key: str) -> None:
    client = B3nClient(api_key=api_key, base_url=base_url)
    matrix = client.embeddings.create_array(_job(), dimensions=64)
    assert matrix.shape == (40, 64) and matrix.dtype.name == "float32"
    from b3n import AsyncB3nClient

    vectors = asyncio.run(AsyncB3nClient(api_key=api_key, base_url=base_url).embeddings.create(_job(), dimensions=64))
    assert len(vectors) == 40
    assert _cos(vectors[7], [float(x) for x in matrix[7]]) > 0.999


def test_refuse_raises_before_anything_is_sent(emulator: Emulator, base_url: str, api_key: str) -> None:
    from llama_index_b3n import B3nEmbedding

    embeddings = B3nEmbeddings(api_key=api_key, base_url=base_url, long_inputs="refuse")
    with pytest.raises(B3nInvalidRequestError, match=r"2 text\(s\) exceed text-embedding-3-small's context of 8,191"):
        embeddings.embed_documents(_job())
    li = B3nEmbedding(api_key=api_key, api_base=base_url, long_inputs="refuse")
    with pytest.raises(B3nInvalidRequestError, match="#7"):
        li.get_text_embedding_batch(_job())
    assert emulator.count("embeddings") == 0
    assert len(B3nEmbedding(api_key=api_key, api_base=base_url).get_text_embedding_batch(_job())) == 40


_TOKENIZER_PROBE = """
import sys
from b3n import B3nClient
from b3n.testing import Emulator
with Emulator() as emu:
    client = B3nClient(api_key="sk-test", base_url=emu.base_url)
    vectors = client.embeddings.create({texts}, dimensions=8)
print(len(vectors), "tiktoken" in sys.modules)
"""


@pytest.mark.parametrize(("texts", "loads"), [
    ("[f'short text {i}' for i in range(1000)]", False),
    ("['short', 'word ' * 5000]", True),  # the control: a text that could be long is counted
])
def test_short_texts_never_load_the_tokenizer(texts: str, loads: bool) -> None:
    """Reading tiktoken's file costs ~0.5 s; a job whose texts all fit by their length alone skips it."""
    pytest.importorskip("tiktoken")
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", _TOKENIZER_PROBE.format(texts=texts)], capture_output=True,
                          text=True, env=env, timeout=120, check=True)
    count, loaded = done.stdout.split()
    assert int(count) == (1000 if not loads else 2)
    assert loaded == str(loads)
