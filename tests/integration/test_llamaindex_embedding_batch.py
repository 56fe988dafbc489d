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


def test_instrumentation_sees_the_returned_vectors_without_a_copy(emulator: Emulator) -> None:
    """The job's EmbeddingEndEvent carries the very lists returned: pydantic no longer re-validates and copies
    every float (20,000 x 256 of them took ~0.5 s, longer than decoding them)."""
    from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler
    from llama_index.core.instrumentation.events import BaseEvent
    from llama_index.core.instrumentation.events.embedding import EmbeddingEndEvent

    seen: list[EmbeddingEndEvent] = []

    class Collect(BaseEventHandler):
        def handle(self, event: BaseEvent, **kwargs: object) -> None:
            if isinstance(event, EmbeddingEndEvent):
                seen.append(event)

    root = get_dispatcher()
    handler = Collect()
    root.add_event_handler(handler)
    try:
        vectors = _model(emulator, dimensions=8).get_text_embedding_batch(TEXTS)
    finally:
        root.event_handlers.remove(handler)
    assert len(seen) == 1 and seen[0].chunks == TEXTS
    assert seen[0].embeddings is vectors  # the same lists, not a validated copy
