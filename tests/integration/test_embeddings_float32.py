"""``embeddings.create_array``: vectors decoded straight into one float32 numpy array (no Python floats)."""

from __future__ import annotations

import asyncio
import sys
import tracemalloc

import numpy as np
import pytest

from b3n import AsyncB3nClient, B3nClient, B3nInvalidRequestError
from b3n.testing import Emulator

TEXTS = [f"chunk {i} of a long corpus about relays" for i in range(2000)]


def test_array_matches_the_lists_in_order(client: B3nClient, emulator: Emulator) -> None:
    lists = client.embeddings.create(TEXTS[:300], dimensions=64, batch_size=50)
    emulator.reset()
    matrix = client.embeddings.create_array(TEXTS[:300], dimensions=64, batch_size=50)
    assert matrix.dtype == np.float32 and matrix.shape == (300, 64)
    assert emulator.count("embeddings") > 1  # several batches, stitched in order
    assert np.array_equal(matrix, np.asarray(lists, dtype=np.float32))


@pytest.mark.parametrize("encoding_format", ["base64", "float"])
def test_async_array_from_base64_and_from_json_floats(base_url: str, api_key: str, encoding_format: str) -> None:
    aclient = AsyncB3nClient(api_key=api_key, base_url=base_url)
    matrix = asyncio.run(aclient.embeddings.create_array(TEXTS[:40], dimensions=16, encoding_format=encoding_format))
    reference = B3nClient(api_key=api_key, base_url=base_url).embeddings.create(TEXTS[:40], dimensions=16)
    assert matrix.shape == (40, 16) and np.array_equal(matrix, np.asarray(reference, dtype=np.float32))


def test_empty_job_gives_an_empty_array(client: B3nClient) -> None:
    assert client.embeddings.create_array([]).shape == (0, 0)


def test_float32_job_holds_a_fraction_of_the_memory(client: B3nClient) -> None:
    client.embeddings.create_array(TEXTS[:10])  # warm-up: imports, pools

    def peak(run: str) -> tuple[int, int]:
        tracemalloc.start()
        # one request at a time: the in-process emulator's own transient memory (it builds each answer while we
        # decode another) is traced too, and with many batches in flight its share made the peak ratio flaky
        result = getattr(client.embeddings, run)(TEXTS, dimensions=1536, batch_size=250, max_concurrency=1)
        held, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del result
        return held, top

    array_held, array_peak = peak("create_array")
    list_held, list_peak = peak("create")
    data = len(TEXTS) * 1536 * 4  # the float32 payload: 12.3 MB
    assert array_held < 1.3 * data  # the array and little else
    assert list_held > 6 * data  # ~32 bytes a component as Python floats in lists
    assert array_peak < list_peak / 3


def test_without_numpy_says_what_to_install(client: B3nClient, monkeypatch: pytest.MonkeyPatch,
                                            emulator: Emulator) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` now fails
    with pytest.raises(B3nInvalidRequestError, match="pip install numpy"):
        client.embeddings.create_array(["a"])
    assert emulator.count("embeddings") == 0  # refused before any request


def test_langchain_array_twins(base_url: str, api_key: str) -> None:
    from langchain_b3n import B3nEmbeddings

    emb = B3nEmbeddings(api_key=api_key, base_url=base_url, dimensions=32)
    expected = np.asarray(emb.embed_documents(TEXTS[:50]), dtype=np.float32)
    assert np.array_equal(emb.embed_documents_array(TEXTS[:50]), expected)
    assert np.array_equal(asyncio.run(emb.aembed_documents_array(TEXTS[:50])), expected)
