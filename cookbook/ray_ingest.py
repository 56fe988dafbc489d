# %% [markdown]
# # Embedding a corpus on Ray
#
# A corpus that outgrows one machine is embedded with [Ray Data](https://docs.ray.io/en/latest/data/data.html):
# `map_batches` with a **class-based UDF**, so that every Ray worker builds its embeddings client once and
# reuses its connection pool for every batch it gets.
#
# - **Credentials come from the environment on the workers.** `B3nEmbeddings` / `B3nEmbedding` pickle
#   without their key and read `B3N_API_KEY` again when Ray unpickles them in the worker (local workers
#   inherit the driver's environment; on a cluster, set it in the workers' environment).
# - **The key's concurrency budget is split across the workers**: the relay admits so many requests in
#   flight per key, so each of `WORKERS` workers gets `max_concurrency = KEY_BUDGET // WORKERS`. Within that
#   ceiling each worker's adaptive limiter still backs off on a 429.
# - **float32 all the way**: `embed_documents_array` returns one numpy `float32` array per batch, which Ray
#   stores as a tensor column (4 bytes a component, no Python floats).
# - The results are **identical to a single-process run**, row for row.
#
# Offline, the bundled emulator plays a real relay: 300 ms (+- 50) + 1 ms per input for each embeddings
# request, 8 requests in flight per key, 429 with `Retry-After: 1` beyond. Ray runs locally with 2 CPUs and
# no dashboard. Needs `pip install -e ".[ray]"` (Ray Data, numpy).

# %%
from _setup import connect, heading

b3n = connect()

# %%
import os
import resource
import sys
import time

import numpy as np
import ray

from langchain_b3n import B3nEmbeddings

KEY_BUDGET = 8  # requests the relay admits in flight for this key
WORKERS = 2
DIMENSIONS = 256

# Ray workers read the key and the relay URL from the environment (never from a pickle).
os.environ["B3N_API_KEY"] = b3n.api_key
os.environ["B3N_BASE_URL"] = b3n.base_url
if b3n.offline:  # make the emulator behave like a real relay
    b3n.emulator.traffic.set_latency("embeddings", 0.3, jitter=0.05, per_input=0.001, seed=1)
    b3n.emulator.traffic.set_limit(concurrent=KEY_BUDGET, retry_after=1)


def corpus(n: int) -> list[str]:
    """``n`` short, distinct texts."""
    return [f"Chunk {i}: the quick brown fox {i % 97} jumps over the lazy dog near river {i % 13}." for i in range(n)]


class EmbedBatch:
    """A Ray Data UDF: one embeddings client per worker, a float32 array per batch."""

    def __init__(self, embeddings: B3nEmbeddings) -> None:
        self.embeddings = embeddings  # unpickled in the worker: the key comes from B3N_API_KEY there

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        batch["embedding"] = self.embeddings.embed_documents_array(list(batch["text"]))
        return batch


def start_ray() -> float:
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    return time.perf_counter() - started


def embed_on_ray(texts: list[str]) -> np.ndarray:
    """Embed ``texts`` on ``WORKERS`` Ray workers sharing the key's budget; vectors in input order."""
    per_worker = B3nEmbeddings(model="text-embedding-3-small", dimensions=DIMENSIONS,
                               max_concurrency=KEY_BUDGET // WORKERS)
    rows = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)])
    embedded = rows.map_batches(
        EmbedBatch, fn_constructor_kwargs={"embeddings": per_worker}, compute=ray.data.ActorPoolStrategy(size=WORKERS),
        num_cpus=0.5,
        batch_size=max(1, len(texts) // (2 * WORKERS)),
    )
    out = embedded.take_all()
    out.sort(key=lambda row: row["id"])
    return np.stack([row["embedding"] for row in out])


if len(sys.argv) == 4 and sys.argv[1] == "--bench":  # used by tests/benchmarks/relay.py
    import hashlib
    import json

    os.environ["B3N_BASE_URL"] = sys.argv[2]
    n = int(sys.argv[3])
    init_s = start_ray()
    try:
        started = time.perf_counter()
        matrix = embed_on_ray(corpus(n))
        wall = time.perf_counter() - started
    finally:
        ray.shutdown()
    print(json.dumps({
        "wall_s": wall, "ray_init_s": init_s, "vectors": len(matrix), "dims": int(matrix.shape[1]),
        "digest": hashlib.sha256(matrix.astype("<f4").tobytes()).hexdigest()[:16],
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    sys.exit(0)

# %% [markdown]
# ## A single process first (the reference)

# %%
heading("One process")
texts = corpus(4000)
single = B3nEmbeddings(model="text-embedding-3-small", dimensions=DIMENSIONS, max_concurrency=KEY_BUDGET)
started = time.perf_counter()
reference = single.embed_documents_array(texts)
print(f"{len(texts):,} texts -> {reference.shape} {reference.dtype} in {time.perf_counter() - started:.1f} s")

# %% [markdown]
# ## The same corpus on Ray, 2 workers sharing the key's budget

# %%
heading("Ray Data")
print(f"ray.init (local, 2 CPUs, no dashboard): {start_ray():.1f} s")
if b3n.offline:
    b3n.emulator.reset()
    b3n.emulator.traffic.set_latency("embeddings", 0.3, jitter=0.05, per_input=0.001, seed=1)
    b3n.emulator.traffic.set_limit(concurrent=KEY_BUDGET, retry_after=1)
try:
    started = time.perf_counter()
    on_ray = embed_on_ray(texts)
    print(f"{WORKERS} workers x max_concurrency {KEY_BUDGET // WORKERS}: {on_ray.shape} in "
          f"{time.perf_counter() - started:.1f} s")
    print("identical to the single-process run:", bool(np.array_equal(on_ray, reference)))
    if b3n.offline:
        print(f"relay: {b3n.emulator.count('embeddings')} requests, {b3n.emulator.traffic.rejected} answered 429, "
              f"at most {b3n.emulator.traffic.peak_concurrency} in flight (limit {KEY_BUDGET})")

    # %% [markdown]
    # ## LlamaIndex: an `IngestionPipeline` on Ray
    #
    # The same pattern runs a LlamaIndex ingestion pipeline (split, then embed) on each worker; every worker
    # unpickles its own copy of the pipeline, `B3nEmbedding` included, without the key.

    # %%
    heading("LlamaIndex IngestionPipeline on Ray")
    from llama_index.core import Document
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter

    from llama_index_b3n import B3nEmbedding

    def make_pipeline(embed_model: B3nEmbedding) -> IngestionPipeline:
        return IngestionPipeline(transformations=[SentenceSplitter(chunk_size=96, chunk_overlap=0), embed_model])

    class IngestBatch:
        """A Ray Data UDF running a LlamaIndex pipeline on a batch of documents."""

        def __init__(self, embed_model: B3nEmbedding) -> None:
            # the embedding model arrives pickled (without its key); the splitter is built here, on the worker
            self.pipeline = make_pipeline(embed_model)

        def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
            documents = [Document(text=str(t), id_=str(i)) for i, t in zip(batch["id"], batch["text"], strict=True)]
            nodes = self.pipeline.run(documents=documents)
            return {"doc_id": [n.ref_doc_id for n in nodes], "chunk": [n.get_content() for n in nodes],
                    "embedding": [np.asarray(n.embedding, dtype=np.float32) for n in nodes]}

    articles = [" ".join(texts[i:i + 6]) for i in range(0, 600, 6)]  # 100 documents of 6 sentences
    def embed_model(max_concurrency: int) -> B3nEmbedding:
        return B3nEmbedding(model_name="text-embedding-3-small", dimensions=DIMENSIONS, max_concurrency=max_concurrency)

    single_pipeline = make_pipeline(embed_model(KEY_BUDGET))
    expected = {(n.ref_doc_id, n.get_content()): n.embedding
                for n in single_pipeline.run(documents=[Document(text=t, id_=str(i)) for i, t in enumerate(articles)])}
    docs = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(articles)])
    chunks = docs.map_batches(IngestBatch, fn_constructor_kwargs={"embed_model": embed_model(KEY_BUDGET // WORKERS)},
                              compute=ray.data.ActorPoolStrategy(size=WORKERS), num_cpus=0.5, batch_size=25).take_all()
    same = len(chunks) == len(expected) and all(
        np.array_equal(np.asarray(expected[(c["doc_id"], c["chunk"])], dtype=np.float32), c["embedding"])
        for c in chunks)
    print(f"{len(articles)} documents -> {len(chunks)} embedded chunks on {WORKERS} workers; "
          f"identical to the single-process pipeline: {same}")
finally:
    ray.shutdown()
print("Ray stopped:", not ray.is_initialized())
