"""Embeddings find the relay's per-key limit by themselves: back off on 429, honour Retry-After, share it."""

from __future__ import annotations

import asyncio
import collections
import time

import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n.testing import Emulator
from langchain_b3n import B3nEmbeddings
from llama_index_b3n import B3nEmbedding

TEXTS = [f"passage {i} about relays and limits" for i in range(3000)]


def _served_inputs(emulator: Emulator) -> list[str]:
    """Every text the relay embedded (answered 200), in the order the requests arrived."""
    return [t for r in emulator.requests if r.route.endswith("embeddings") and r.status == 200 for t in r.json["input"]]


def _assert_each_text_once(emulator: Emulator, texts: list[str]) -> None:
    served = collections.Counter(_served_inputs(emulator))
    assert served == collections.Counter(texts)  # none lost, none embedded twice


def _relay(emulator: Emulator, concurrent: int, retry_after: float | None = 0.2) -> None:
    emulator.traffic.set_latency("embeddings", 0.05, jitter=0.01, per_input=0.0001, seed=3)
    emulator.traffic.set_limit(concurrent=concurrent, retry_after=retry_after)


def test_sync_job_settles_on_the_relay_limit_and_the_next_instance_starts_there(
    emulator: Emulator, base_url: str
) -> None:
    _relay(emulator, concurrent=4)
    key = "sk-adaptive-sync"  # a key of its own: the limiter is shared per relay, key and max_concurrency
    first = B3nEmbeddings(api_key=key, base_url=base_url, dimensions=8)
    reference = B3nClient(api_key="sk-reference", base_url=base_url)
    vectors = first.embed_documents(TEXTS)
    assert emulator.traffic.peak_concurrency == 4
    assert 1 <= emulator.traffic.rejected <= 16  # the opening burst, then none
    _assert_each_text_once(emulator, TEXTS)
    emulator.traffic.set_limit()  # the reference run is not limited
    assert vectors == reference.embeddings.create(TEXTS, dimensions=8, max_concurrency=1)  # same vectors, same order

    emulator.reset()
    _relay(emulator, concurrent=4)
    second = B3nEmbeddings(api_key=key, base_url=base_url, dimensions=8)  # another instance, same settings
    assert second.embed_documents(TEXTS) == vectors
    assert emulator.traffic.rejected <= 1  # it started at the limit the first one found (at most one probe above)
    assert emulator.traffic.peak_concurrency == 4
    _assert_each_text_once(emulator, TEXTS)


def test_async_llamaindex_job_backs_off_and_keeps_order(emulator: Emulator, base_url: str) -> None:
    _relay(emulator, concurrent=3)
    emb = B3nEmbedding(api_key="sk-adaptive-async", api_base=base_url, dimensions=8, max_concurrency=12)
    vectors = asyncio.run(emb.aget_text_embedding_batch(TEXTS))
    assert emulator.traffic.peak_concurrency == 3
    assert 1 <= emulator.traffic.rejected <= 12
    _assert_each_text_once(emulator, TEXTS)
    emulator.reset()
    _relay(emulator, concurrent=3)
    again = B3nEmbedding(api_key="sk-adaptive-async", api_base=base_url, dimensions=8, max_concurrency=12)
    assert asyncio.run(again.aget_text_embedding_batch(TEXTS)) == vectors
    assert emulator.traffic.rejected <= 1 and emulator.traffic.peak_concurrency == 3
    emulator.traffic.set_limit()
    assert vectors == emb.get_text_embedding_batch(TEXTS)


def test_refused_batches_wait_retry_after_and_the_rest_keeps_going(emulator: Emulator, base_url: str) -> None:
    _relay(emulator, concurrent=2, retry_after=0.6)
    client = AsyncB3nClient(api_key="sk-adaptive-pause", base_url=base_url)
    vectors = asyncio.run(client.embeddings.create(TEXTS[:600], dimensions=8, max_concurrency=8))
    assert len(vectors) == 600
    records = [r for r in emulator.requests if r.route.endswith("embeddings")]
    refused = [r for r in records if r.status == 429]
    assert refused
    for r in refused:  # the same batch is sent again only after the relay's Retry-After
        again = [x.time for x in records if x.json["input"] == r.json["input"] and x.time > r.time]
        assert again and min(again) - r.time >= 0.55
    assert emulator.traffic.rejected <= 8  # the opening burst, not a storm
    _assert_each_text_once(emulator, TEXTS[:600])


def test_a_key_refused_outright_pauses_until_retry_after(emulator: Emulator, base_url: str) -> None:
    emulator.traffic.set_latency("embeddings", 0.02)
    emulator.inject("rate_limit", route="embeddings", times=4, retry_after=0.5)  # every request of the burst
    client = B3nClient(api_key="sk-adaptive-outright", base_url=base_url)
    started = time.monotonic()
    vectors = client.embeddings.create(TEXTS[:1000], dimensions=8, max_concurrency=4)
    assert len(vectors) == 1000
    assert time.monotonic() - started >= 0.5
    records = [r for r in emulator.requests if r.route.endswith("embeddings")]
    last_refusal = max(r.time for r in records if r.status == 429)
    assert all(r.time - last_refusal >= 0.45 for r in records if r.status == 200)
    _assert_each_text_once(emulator, TEXTS[:1000])


def test_sync_and_async_share_one_budget(emulator: Emulator, base_url: str) -> None:
    _relay(emulator, concurrent=4, retry_after=0.1)
    key = "sk-adaptive-shared"
    sync_client = B3nClient(api_key=key, base_url=base_url)
    async_client = AsyncB3nClient(api_key=key, base_url=base_url)
    sync_client.embeddings.create(TEXTS[:1000], dimensions=8, max_concurrency=8)  # learns the limit: 4
    emulator.reset()
    _relay(emulator, concurrent=4, retry_after=0.1)

    async def both() -> None:
        await asyncio.gather(
            asyncio.to_thread(sync_client.embeddings.create, TEXTS[:1500], dimensions=8, max_concurrency=8),
            async_client.embeddings.create(TEXTS[1500:], dimensions=8, max_concurrency=8),
        )

    asyncio.run(both())
    assert emulator.traffic.peak_concurrency == 4
    assert emulator.traffic.rejected <= 2  # no burst: at most a probe each
    _assert_each_text_once(emulator, TEXTS)


def test_max_concurrency_stays_the_ceiling_without_429s(emulator: Emulator, base_url: str) -> None:
    emulator.traffic.set_latency("embeddings", 0.4)
    emulator.traffic.set_limit(concurrent=100)  # observe only
    client = B3nClient(api_key="sk-adaptive-ceiling", base_url=base_url)
    client.embeddings.create(TEXTS, dimensions=8, max_concurrency=5)
    assert emulator.traffic.peak_concurrency == 5 and emulator.traffic.rejected == 0


@pytest.mark.parametrize("retry_after", [None, 0.1])
def test_a_relay_refusing_everything_still_fails_loudly(emulator: Emulator, base_url: str,
                                                        retry_after: float | None) -> None:
    from b3n import B3nRateLimitError

    emulator.traffic.set_limit(per_minute=1, retry_after=retry_after)
    client = B3nClient(api_key=f"sk-adaptive-refused-{retry_after}", base_url=base_url, max_retries=1)
    client.embeddings.create(["one"], dimensions=8)  # uses the minute's only request
    with pytest.raises(B3nRateLimitError):
        client.embeddings.create(TEXTS[:10], dimensions=8)
    assert emulator.count("embeddings") == 1 + 2  # one try and one retry, nothing more
