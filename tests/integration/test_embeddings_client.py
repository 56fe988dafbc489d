"""The embeddings core against the emulator over HTTP: batching, order, retries, concurrency, cancellation."""

from __future__ import annotations

import asyncio
from array import array
from typing import Any

import httpx
import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n._errors import B3nAuthenticationError, B3nInvalidRequestError, B3nServerError
from b3n.testing import Emulator
from b3n.testing.embeddings import EmbeddingEngine
from tests.conftest import sample_peak

TEXTS_10K = [f"chunk {i} of the corpus" for i in range(10_000)]
ENGINE = EmbeddingEngine()


def _expected(texts: list[str], dims: int) -> list[array[float]]:
    """The emulator's vectors for ``texts`` (its documented feature hashing), as float32."""
    return [array("f", ENGINE.vector(t, dims)) for t in texts]


def _f32(vectors: list[list[float]]) -> list[array[float]]:
    return [array("f", v) for v in vectors]


def _last_json(emulator: Emulator) -> Any:
    """Body of the last embeddings request the emulator received."""
    record = emulator.last_request("embeddings")
    assert record is not None
    return record.json


def _batches(emulator: Emulator) -> list[list[str]]:
    return [r.json["input"] for r in emulator.requests if r.route.endswith("embeddings")]


# ----------------------------------------------------------------------------- volume and order


def test_ten_thousand_texts_sync_in_order_with_expected_request_count(client: B3nClient, emulator: Emulator) -> None:
    vectors = client.embeddings.create(TEXTS_10K, dimensions=16, batch_size=512)
    # ceil(10_000 / 512) = 20 requests, rounded up to whole rounds over the 16 slots: 32 of ~313 texts
    assert emulator.count("embeddings") == 32
    assert max(len(b) for b in _batches(emulator)) == 313 and min(len(b) for b in _batches(emulator)) > 250
    assert len(vectors) == 10_000
    assert _f32(vectors) == _expected(TEXTS_10K, 16)


async def test_ten_thousand_texts_async_in_order_with_expected_request_count(
    aclient: AsyncB3nClient, emulator: Emulator
) -> None:
    vectors = await aclient.embeddings.create(TEXTS_10K, dimensions=16, batch_size=1000, max_concurrency=8)
    assert emulator.count("embeddings") == 16  # 10 requests needed, two rounds over 8 slots: 16 of 625
    assert _f32(vectors) == _expected(TEXTS_10K, 16)


def test_token_budget_splits_batches(client: B3nClient, emulator: Emulator) -> None:
    texts = ["word " * 600] * 10  # ~1001 estimated tokens each
    vectors = client.embeddings.create(texts, dimensions=8, max_batch_tokens=3000)
    assert len(vectors) == 10
    assert [len(b) for b in _batches(emulator)] == [2, 2, 2, 2, 2]


# ----------------------------------------------------------------------------- retries


def test_batch_hit_by_429_is_retried_alone(client: B3nClient, emulator: Emulator) -> None:
    texts = TEXTS_10K[:2000]
    emulator.inject("rate_limit", route="embeddings", retry_after=0)
    vectors = client.embeddings.create(texts, dimensions=8, batch_size=200, max_concurrency=4)
    assert emulator.count("embeddings") == 12 + 1  # 10 needed, 3 rounds over 4 slots; and the retry
    sent = _batches(emulator)
    rejected = [r.json["input"] for r in emulator.requests if r.status == 429]
    assert len(rejected) == 1
    assert sent.count(rejected[0]) == 2  # the failed batch went again...
    assert len({tuple(b) for b in sent}) == 12  # ...and no finished batch was re-sent
    assert _f32(vectors) == _expected(texts, 8)


async def test_async_batch_hit_by_429_is_retried_alone(aclient: AsyncB3nClient, emulator: Emulator) -> None:
    texts = TEXTS_10K[:1000]
    emulator.inject("rate_limit", route="embeddings", retry_after=0)
    vectors = await aclient.embeddings.create(texts, dimensions=8, batch_size=100, max_concurrency=4)
    assert emulator.count("embeddings") == 12 + 1
    assert len({tuple(b) for b in _batches(emulator)}) == 12
    assert _f32(vectors) == _expected(texts, 8)


def test_failed_batch_stops_the_job_and_later_batches_are_never_sent(base_url: str, api_key: str,
                                                                     emulator: Emulator) -> None:
    client = B3nClient(api_key=api_key, base_url=base_url, max_retries=0)
    emulator.inject("server_error", route="embeddings", status=502)
    with pytest.raises(B3nServerError):
        client.embeddings.create(TEXTS_10K[:500], dimensions=8, batch_size=100, max_concurrency=1)
    assert emulator.count("embeddings") == 1


def test_auth_error_is_not_retried(client: B3nClient, emulator: Emulator) -> None:
    emulator.inject("auth", route="embeddings")
    with pytest.raises(B3nAuthenticationError):
        client.embeddings.create(["hello"])
    assert emulator.count("embeddings") == 1


# ----------------------------------------------------------------------------- concurrency and cancellation


def test_sync_concurrency_is_bounded(client: B3nClient, emulator: Emulator) -> None:
    emulator.latency = 0.15
    with sample_peak(emulator) as sampler:
        vectors = client.embeddings.create(TEXTS_10K[:80], dimensions=8, batch_size=10, max_concurrency=3)
    assert len(vectors) == 80 and emulator.count("embeddings") == 9  # 3 rounds over 3 slots
    assert sampler.peak == 3


async def test_async_concurrency_is_bounded(aclient: AsyncB3nClient, emulator: Emulator) -> None:
    emulator.latency = 0.15
    with sample_peak(emulator) as sampler:
        vectors = await aclient.embeddings.create(TEXTS_10K[:80], dimensions=8, batch_size=10, max_concurrency=3)
    assert len(vectors) == 80 and emulator.count("embeddings") == 9  # 3 rounds over 3 slots
    assert sampler.peak == 3


async def test_cancelling_an_async_job_leaves_no_request_running(aclient: AsyncB3nClient,
                                                                 emulator: Emulator) -> None:
    emulator.latency = 5.0
    job = asyncio.ensure_future(
        aclient.embeddings.create(TEXTS_10K[:1000], dimensions=8, batch_size=100, max_concurrency=4)
    )
    for _ in range(300):
        if emulator.active_requests == 4:
            break
        await asyncio.sleep(0.01)
    assert emulator.active_requests == 4
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    # every in-flight request was closed: the server sees the client leave and stops working on it
    for _ in range(300):
        if emulator.active_requests == 0:
            break
        await asyncio.sleep(0.01)
    assert emulator.active_requests == 0
    assert emulator.disconnects == 4
    assert emulator.count("embeddings") == 4  # the 6 queued batches were never sent


async def test_failure_in_one_async_batch_cancels_the_others(base_url: str, api_key: str,
                                                             emulator: Emulator) -> None:
    aclient = AsyncB3nClient(api_key=api_key, base_url=base_url, max_retries=0)
    emulator.inject("slow_first_byte", route="embeddings", times=3, delay=5.0)  # the first three arrivals hang
    emulator.inject("auth", route="embeddings")  # the fourth fails at once
    with pytest.raises(B3nAuthenticationError):
        await aclient.embeddings.create(TEXTS_10K[:1000], dimensions=8, batch_size=100, max_concurrency=4)
    for _ in range(300):
        if emulator.active_requests == 0:
            break
        await asyncio.sleep(0.01)
    assert emulator.active_requests == 0
    assert emulator.disconnects == 3  # the three hanging requests were closed, not left running
    assert emulator.count("embeddings") == 4  # and the 6 queued batches were never sent


# ----------------------------------------------------------------------------- dimensions and models


@pytest.mark.parametrize(
    ("model", "native"),
    [("text-embedding-ada-002", 1536), ("text-embedding-3-small", 1536), ("text-embedding-3-large", 3072)],
)
def test_native_sizes(client: B3nClient, model: str, native: int) -> None:
    assert [len(v) for v in client.embeddings.create(["a", "b"], model)] == [native, native]


@pytest.mark.parametrize("model", ["text-embedding-3-small", "text-embedding-3-large"])
async def test_dimensions_are_honoured(client: B3nClient, aclient: AsyncB3nClient, emulator: Emulator,
                                       model: str) -> None:
    assert len(client.embeddings.create(["hello"], model, dimensions=256)[0]) == 256
    assert _last_json(emulator)["dimensions"] == 256
    assert len((await aclient.embeddings.create(["hello"], model, dimensions=64))[0]) == 64


async def test_ada_with_dimensions_is_refused_before_any_request(client: B3nClient, aclient: AsyncB3nClient,
                                                                 emulator: Emulator) -> None:
    with pytest.raises(B3nInvalidRequestError, match="fixed size"):
        client.embeddings.create(["a"], "text-embedding-ada-002", dimensions=256)
    with pytest.raises(B3nInvalidRequestError, match="fixed size"):
        await aclient.embeddings.create(["a"], "text-embedding-ada-002", dimensions=256)
    assert emulator.count("embeddings") == 0


def test_invalid_text_deep_in_a_job_is_refused_before_any_request(client: B3nClient, emulator: Emulator) -> None:
    texts: list[object] = [*TEXTS_10K[:3000], 42]
    with pytest.raises(B3nInvalidRequestError, match="#3000"):
        client.embeddings.create(texts)  # type: ignore[arg-type]
    assert emulator.count("embeddings") == 0


# ----------------------------------------------------------------------------- wire format


@pytest.mark.parametrize("model", ["text-embedding-3-small", "text-embedding-ada-002"])
def test_base64_decodes_exactly_the_same_vectors_as_float(client: B3nClient, emulator: Emulator,
                                                          model: str) -> None:
    texts = ["the quick brown fox", "向量化 测试", "numbers 1 2 3", "x"]
    b64 = client.embeddings.create_batch(texts, model, encoding_format="base64")
    auto = client.embeddings.create_batch(texts, model)
    flt = client.embeddings.create_batch(texts, model, encoding_format="float")
    formats = [r.json["encoding_format"] for r in emulator.requests]
    assert formats == ["base64", "base64", "float"]
    assert b64.encoding == auto.encoding == "base64" and flt.encoding == "float"
    # base64 carries float32: the JSON floats rounded to float32 are bit-for-bit the decoded values
    assert _f32(flt.embeddings) == _f32(b64.embeddings) == _f32(auto.embeddings)
    assert b64.embeddings == auto.embeddings
    for f, b in zip(flt.embeddings, b64.embeddings, strict=True):
        assert all(abs(x - y) <= 1e-7 * max(1.0, abs(x)) for x, y in zip(f, b, strict=True))
    assert b64.wire_bytes * 3 < flt.wire_bytes  # >3x smaller on the wire
    assert b64.usage is not None and b64.usage.prompt_tokens > 0


# ----------------------------------------------------------------------------- empty strings


def test_empty_strings_embed_as_a_space(client: B3nClient, base_url: str, api_key: str,
                                        emulator: Emulator) -> None:
    # the relay (like OpenAI) rejects "": that is why the client never sends it
    raw = httpx.post(f"{base_url}/embeddings", json={"model": "text-embedding-3-small", "input": ["a", ""]},
                     headers={"Authorization": f"Bearer {api_key}"})
    assert raw.status_code == 400
    vectors = client.embeddings.create(["", "hello", ""], dimensions=32)
    assert _last_json(emulator)["input"] == [" ", "hello", " "]
    space = client.embeddings.create([" "], dimensions=32)[0]
    assert vectors[0] == vectors[2] == space
    assert abs(sum(x * x for x in vectors[0]) - 1.0) < 1e-5  # a real unit vector, not zeros


def test_empty_list_sends_nothing(client: B3nClient, emulator: Emulator) -> None:
    assert client.embeddings.create([]) == []
    assert emulator.count("embeddings") == 0


# ----------------------------------------------------------------------------- progress


async def test_progress_reports_every_finished_batch(client: B3nClient, aclient: AsyncB3nClient) -> None:
    seen: list[tuple[int, int]] = []
    client.embeddings.create(TEXTS_10K[:250], dimensions=8, batch_size=100, on_progress=lambda d, t: seen.append((d, t)))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (250, 250) and len(seen) == 3
    seen.clear()
    await aclient.embeddings.create(TEXTS_10K[:250], dimensions=8, batch_size=100,
                                    on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (250, 250) and len(seen) == 3


def test_a_large_base64_answer_decodes_exactly_as_plain_stdlib() -> None:
    """One 1,250 x 256 base64 answer (1.7 MB) from a server of the test's own: the vectors are what a bare
    ``json.loads`` + ``base64`` + ``array`` decode gives, component for component. (How fast it is read compared
    with that bare decode is a benchmark: ``python -m tests.benchmarks.answer_read``.)"""
    from tests.benchmarks.answer_read import answer_body, plain_decode
    from tests.hostile import serving

    texts, body, handler = answer_body()
    with serving(handler) as url:
        vectors = B3nClient(api_key="sk-test", base_url=url + "/v1").embeddings.create(
            texts, dimensions=256, max_concurrency=1)
    assert len(vectors) == 1250 and vectors == plain_decode(body)
