"""B3nEmbedding.get_text_embedding_batch runs its batches concurrently and still reports to LlamaIndex."""

from __future__ import annotations

import time

from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler
from llama_index.core.storage.kvstore import SimpleKVStore

from b3n.testing import Emulator
from llama_index_b3n import B3nEmbedding

TEXTS = [f"document number {i} about topic {i % 7}" for i in range(40)]


def _model(emulator: Emulator, **kw: object) -> B3nEmbedding:
    return B3nEmbedding(api_key="sk-test", api_base=emulator.base_url, embed_batch_size=10, max_concurrency=4, **kw)


def test_sync_batch_is_concurrent_ordered_and_observable(emulator: Emulator) -> None:
    handler = LlamaDebugHandler()
    model = _model(emulator, callback_manager=CallbackManager([handler]))
    expected = [model.get_text_embedding(t) for t in TEXTS[:3]]
    emulator.reset()
    emulator.latency = 0.3
    started = time.monotonic()
    vectors = model.get_text_embedding_batch(TEXTS)
    elapsed = time.monotonic() - started
    assert len(vectors) == 40 and vectors[:3] == expected  # order preserved
    assert emulator.count("embeddings") == 4  # 4 batches of 10 ...
    assert elapsed < 0.9  # ... in flight together (sequential would take >= 1.2 s)
    events = handler.get_event_pairs(CBEventType.EMBEDDING)
    assert events and events[-1][1].payload is not None
    assert len(events[-1][1].payload["chunks"]) == 40


def test_cache_and_rate_limiter_keep_the_base_loop(emulator: Emulator) -> None:
    model = _model(emulator, embeddings_cache=SimpleKVStore())
    first = model.get_text_embedding_batch(TEXTS[:20])
    sent = emulator.count("embeddings")
    assert sent == 2
    assert model.get_text_embedding_batch(TEXTS[:20]) == first
    assert emulator.count("embeddings") == sent  # served from the cache


def test_empty_batch_sends_nothing(emulator: Emulator) -> None:
    assert _model(emulator).get_text_embedding_batch([]) == []
    assert emulator.count("embeddings") == 0
