"""One embedding job against the shaped emulator, in a fresh process; prints one JSON line.

Started by ``tests/benchmarks/relay.py`` as ``python -m tests.benchmarks._relay_job CONTENDER BASE_URL N``.
A fresh process per job gives each contender a cold start (our adaptive limiter starts at its
ceiling and must find the relay's limit) and its own peak RSS (``ru_maxrss``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import resource
import sys
import time
from array import array
from collections.abc import Callable
from typing import Any

KEY = "sk-bench0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
MODEL = "text-embedding-3-small"
DIMENSIONS = 256


def texts(n: int) -> list[str]:
    """``n`` short, distinct texts."""
    return [f"Chunk {i}: the quick brown fox {i % 97} jumps over the lazy dog near river {i % 13}." for i in range(n)]


def digest(vectors: Any) -> str:
    """sha256 of every component as little-endian float32, in order (lists or a float32 array)."""
    if hasattr(vectors, "tobytes"):
        return hashlib.sha256(vectors.astype("<f4").tobytes()).hexdigest()[:16]
    values = array("f")
    for vector in vectors:
        values.extend(vector)
    if sys.byteorder == "big":
        values.byteswap()
    return hashlib.sha256(values.tobytes()).hexdigest()[:16]


def _ready(client: Any) -> None:
    """Build our HTTP client now, before the clock, as ``OpenAIEmbeddings`` does in its constructor.

    (Ours builds it on the first request: importing the client modules and loading the CA bundle for the
    TLS context, ~0.1 s once per process on this machine, is start-up, not throughput.)
    """
    _ = client.transport.client


def _ours_lc_sync(base_url: str) -> Callable[[list[str]], Any]:
    from langchain_b3n import B3nEmbeddings

    emb = B3nEmbeddings(api_key=KEY, base_url=base_url, dimensions=DIMENSIONS)
    _ready(emb.client)
    return emb.embed_documents


def _ours_lc_async(base_url: str) -> Callable[[list[str]], Any]:
    from langchain_b3n import B3nEmbeddings

    emb = B3nEmbeddings(api_key=KEY, base_url=base_url, dimensions=DIMENSIONS)
    return lambda items: asyncio.run(emb.aembed_documents(items))


def _ours_li_sync(base_url: str) -> Callable[[list[str]], Any]:
    from llama_index_b3n import B3nEmbedding

    emb = B3nEmbedding(api_key=KEY, api_base=base_url, dimensions=DIMENSIONS)
    _ready(emb.client)
    return emb.get_text_embedding_batch


def _ours_li_async(base_url: str) -> Callable[[list[str]], Any]:
    from llama_index_b3n import B3nEmbedding

    emb = B3nEmbedding(api_key=KEY, api_base=base_url, dimensions=DIMENSIONS)
    return lambda items: asyncio.run(emb.aget_text_embedding_batch(items))


def _ours_core_float32(base_url: str) -> Callable[[list[str]], Any]:
    from b3n import B3nClient

    client = B3nClient(api_key=KEY, base_url=base_url)
    _ready(client)
    return lambda items: client.embeddings.create_array(items, dimensions=DIMENSIONS)


def _ours_lc_sync_small_batches(base_url: str) -> Callable[[list[str]], Any]:
    """Many requests (batch_size=256) so that the limiter's steady state shows over several seconds."""
    from langchain_b3n import B3nEmbeddings

    emb = B3nEmbeddings(api_key=KEY, base_url=base_url, dimensions=DIMENSIONS, batch_size=256)
    _ready(emb.client)
    return emb.embed_documents


def _lc_anchor(base_url: str) -> Callable[[list[str]], Any]:
    from langchain_openai import OpenAIEmbeddings

    # defaults, except the context-length check: it downloads a tiktoken file, which fails offline
    emb = OpenAIEmbeddings(model=MODEL, dimensions=DIMENSIONS, api_key=KEY, base_url=base_url,  # type: ignore[arg-type]
                           check_embedding_ctx_length=False)
    return emb.embed_documents


def _li_anchor(base_url: str) -> Callable[[list[str]], Any]:
    from llama_index.embeddings.openai import OpenAIEmbedding

    emb = OpenAIEmbedding(model=MODEL, dimensions=DIMENSIONS, api_key=KEY, api_base=base_url)
    emb._get_client()  # built on first use otherwise; built here as OpenAIEmbeddings and ours are (see _ready)
    return emb.get_text_embedding_batch


def _floor(base_url: str) -> Callable[[list[str]], Any]:
    """The floor for list output: a client that knows the relay in advance and checks nothing.

    httpx, ``json`` and ``base64`` only: 16 equal requests, at most 8 in flight (the relay's limit, known, so
    no 429), no retries, no checks of the answer; the calling thread decodes each answer into lists as soon as
    it is read. No real client knows the limit or may skip the checks, so this is as close to the best
    schedule as lists of floats get on this machine (page faults and garbage collection included).
    """
    import binascii
    import threading
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    import httpx

    client = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=16))
    headers = {"Authorization": f"Bearer {KEY}"}
    slots = threading.Semaphore(8)

    def post(batch: list[str]) -> bytes:
        payload = {"model": MODEL, "input": batch, "dimensions": DIMENSIONS, "encoding_format": "base64"}
        with slots:
            response = client.post(base_url + "/embeddings", json=payload, headers=headers)
        response.raise_for_status()
        return response.content

    def decode(body: bytes) -> list[list[float]]:
        return [array("f", binascii.a2b_base64(item["embedding"])).tolist() for item in json.loads(body)["data"]]

    def job(items: list[str]) -> list[list[float]]:
        size = -(-len(items) // 16)
        batches = [items[i:i + size] for i in range(0, len(items), size)]
        results: list[list[list[float]]] = [[] for _ in batches]
        with ThreadPoolExecutor(len(batches)) as pool:
            futures = {pool.submit(post, batch): i for i, batch in enumerate(batches)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    results[futures[future]] = decode(future.result())
        return [vector for vectors in results for vector in vectors]

    return job


def _floor_after(framework: Callable[[str], Any]) -> Callable[[str], Callable[[list[str]], Any]]:
    """:func:`_floor` in a process that first did what ``framework``'s job does before its clock.

    Importing LangChain or LlamaIndex leaves a heap (and garbage-collector counters) of its own; the floor in
    that process is what our client in that framework can be compared with.
    """

    def build(base_url: str) -> Callable[[list[str]], Any]:
        framework(base_url)
        return _floor(base_url)

    return build


JOBS: dict[str, Callable[[str], Callable[[list[str]], Any]]] = {
    "ours_lc_sync": _ours_lc_sync,
    "ours_lc_async": _ours_lc_async,
    "ours_li_sync": _ours_li_sync,
    "ours_li_async": _ours_li_async,
    "ours_core_float32": _ours_core_float32,
    "ours_lc_sync_small_batches": _ours_lc_sync_small_batches,
    "lc_anchor": _lc_anchor,
    "li_anchor": _li_anchor,
    "floor": _floor,
    "floor_lc": _floor_after(_ours_lc_sync),
    "floor_li": _floor_after(_ours_li_sync),
}


def main() -> None:
    name, base_url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    job = JOBS[name](base_url)
    items = texts(n)
    # The clock measures the job, not a process's one-time set-up: every blocking contender has imported its
    # modules and built its HTTP client above (the async ones build theirs per event loop, in the job);
    # importing httpx here puts the async ones on the same footing for that import.
    import httpx  # noqa: F401

    started = time.perf_counter()
    vectors = job(items)
    wall = time.perf_counter() - started
    out: dict[str, Any] = {
        "wall_s": wall, "vectors": len(vectors), "dims": len(vectors[0]) if len(vectors) else 0,
        "digest": digest(vectors), "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if name.startswith("ours"):
        from b3n._adaptive import _registry

        limiters = list(_registry.values())
        if limiters:
            stats = limiters[0].stats()
            out["limiter"] = {"limit": stats.limit, "lowest": stats.lowest, "rate_limited": stats.rate_limited,
                              "history": stats.history}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
