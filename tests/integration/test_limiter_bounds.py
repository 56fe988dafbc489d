"""The shared adaptive limiter never holds a call past its caller's deadline, and nothing wedges or grows it.

A relay's ``Retry-After`` pauses the key at most ``max_retry_after`` (60 s at most); the wait for a slot ends
with ``timeout`` / ``total_timeout`` (``B3nLimiterTimeoutError``, nothing sent); Ctrl-C, cancellation or a
failing callback leave no orphan waiter and no lost slot; the process keeps a bounded number of limiters.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from b3n import AsyncB3nClient, B3nClient, B3nConfig, B3nRateLimitError, B3nTimeoutError
from b3n._adaptive import HISTORY_SIZE, KEEP_IDLE, MAX_PAUSE, AdaptiveLimiter, shared_limiter
from b3n._errors import B3nLimiterTimeoutError
from b3n.testing import Emulator
from tests.conftest import finish_within

TEXTS = [f"text {i} about limits" for i in range(40)]


def _embeddings(emulator: Emulator) -> int:
    return emulator.count("embeddings")


def test_a_429_with_retry_after_3600_pauses_the_key_no_longer_than_max_retry_after(
    emulator: Emulator, base_url: str
) -> None:
    emulator.inject("rate_limit", route="embeddings", times=1, retry_after=3600)
    client = B3nClient(config=B3nConfig(api_key=SecretStr("sk-pause-3600"), base_url=base_url, max_retry_after=0.3))
    started = time.monotonic()
    vectors, _ = finish_within(
        10, lambda: client.embeddings.create(TEXTS, dimensions=8, batch_size=10, max_concurrency=1)
    )
    assert len(vectors) == len(TEXTS)
    assert time.monotonic() - started < 5  # not an hour: the pause is capped like the retry's sleep
    assert _embeddings(emulator) == 4 + 1  # four batches, the refused one once more


def test_the_pause_is_capped_at_60_seconds_whatever_the_settings(emulator: Emulator, base_url: str) -> None:
    emulator.inject("rate_limit", route="embeddings", times=1, retry_after=3600)
    config = B3nConfig(api_key=SecretStr("sk-pause-cap"), base_url=base_url, max_retries=0, max_retry_after=7200)
    with pytest.raises(B3nRateLimitError):
        B3nClient(config=config).embeddings.create(["one"], dimensions=8, max_concurrency=1)
    # the next call of the key may wait 61 s, and is told at once that the pause (60 s at most) ends in time
    waiting = B3nClient(api_key="sk-pause-cap", base_url=base_url, total_timeout=59.0)
    with pytest.raises(B3nLimiterTimeoutError, match=r"pause .* for (59|60)\.\ds more"):
        finish_within(5, lambda: waiting.embeddings.create(["two"], dimensions=8, max_concurrency=1))
    assert MAX_PAUSE == 60.0
    assert _embeddings(emulator) == 1


@pytest.mark.parametrize("setting", ["timeout", "total_timeout"])
def test_the_wait_for_a_slot_ends_with_the_callers_deadline(emulator: Emulator, base_url: str, setting: str) -> None:
    emulator.inject("slow_first_byte", route="embeddings", times=1, delay=1.5)
    holder = B3nClient(api_key="sk-deadline", base_url=base_url, timeout=10)
    waiter = B3nClient(api_key="sk-deadline", base_url=base_url, **{setting: 0.5})  # type: ignore[arg-type]
    busy = threading.Thread(target=lambda: holder.embeddings.create(["slow"], dimensions=8, max_concurrency=1))
    busy.start()
    while _embeddings(emulator) == 0:
        time.sleep(0.01)
    started = time.monotonic()
    with pytest.raises(B3nTimeoutError) as caught:
        finish_within(10, lambda: waiter.embeddings.create(["quick"], dimensions=8, max_concurrency=1))
    waited = time.monotonic() - started
    busy.join()
    assert isinstance(caught.value, B3nLimiterTimeoutError)
    assert "adaptive limiter" in str(caught.value) and "not sent" in str(caught.value)
    assert 0.4 < waited < 1.3  # one wait of 0.5 s: not retried, not the 1.5 s the slot was busy
    assert _embeddings(emulator) == 1  # the waiting call never reached the relay


def test_the_asyncio_wait_for_a_slot_ends_with_total_timeout(emulator: Emulator, base_url: str) -> None:
    emulator.inject("slow_first_byte", route="embeddings", times=1, delay=1.2)

    async def main() -> float:
        holder = AsyncB3nClient(api_key="sk-deadline-async", base_url=base_url)
        waiter = AsyncB3nClient(api_key="sk-deadline-async", base_url=base_url, total_timeout=0.4)
        busy = asyncio.create_task(holder.embeddings.create(["slow"], dimensions=8, max_concurrency=1))
        while _embeddings(emulator) == 0:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(B3nLimiterTimeoutError):
            await waiter.embeddings.create(["quick"], dimensions=8, max_concurrency=1)
        waited = time.monotonic() - started
        await busy
        return waited

    assert asyncio.run(asyncio.wait_for(main(), 10)) < 1.0
    assert _embeddings(emulator) == 1


_CTRL_C_CHILD = """
import sys, threading, time
from b3n import B3nClient
from b3n._adaptive import shared_limiter

base_url = sys.argv[1]
client = B3nClient(api_key="sk-ctrl-c", base_url=base_url, timeout=30)
limiter = shared_limiter(client.config.base_url, "sk-ctrl-c", 1)
busy = threading.Thread(target=lambda: client.embeddings.create(["slow"], dimensions=8, max_concurrency=1))
busy.start()
while limiter.in_flight == 0:
    time.sleep(0.01)
threading.Timer(0.3, lambda: print("waiting", flush=True)).start()
try:
    client.embeddings.create(["interrupted"], dimensions=8, max_concurrency=1)
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
busy.join()
started = time.monotonic()
vectors = client.embeddings.create(["next"], dimensions=8, max_concurrency=1)
print("next call", len(vectors), round(time.monotonic() - started, 2), flush=True)
"""


def test_ctrl_c_while_waiting_for_a_slot_leaves_the_limiter_working(
    emulator: Emulator, base_url: str, tmp_path: Path
) -> None:
    emulator.inject("slow_first_byte", route="embeddings", times=1, delay=1.5)
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(_CTRL_C_CHILD))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, str(script), base_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "waiting"
        child.send_signal(signal.SIGINT)  # a real Ctrl-C, while the main thread waits for the only slot
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    lines = out.splitlines()
    assert lines[0] == "interrupted", err
    assert lines[1].startswith("next call 1 "), err
    assert float(lines[1].split()[-1]) < 2
    assert [r.json["input"] for r in emulator.requests if r.route.endswith("embeddings")] == [["slow"], ["next"]]


def test_a_cancelled_asyncio_wait_gives_its_place_back(emulator: Emulator, base_url: str) -> None:
    emulator.inject("slow_first_byte", route="embeddings", times=1, delay=0.5)

    async def main() -> list[list[float]]:
        client = AsyncB3nClient(api_key="sk-cancel", base_url=base_url)
        busy = asyncio.create_task(client.embeddings.create(["slow"], dimensions=8, max_concurrency=1))
        while _embeddings(emulator) == 0:
            await asyncio.sleep(0.01)
        waiting = asyncio.create_task(client.embeddings.create(["cancelled"], dimensions=8, max_concurrency=1))
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await busy
        return await asyncio.wait_for(client.embeddings.create(["next"], dimensions=8, max_concurrency=1), 3)

    assert len(asyncio.run(main())) == 1
    assert [r.json["input"] for r in emulator.requests if r.route.endswith("embeddings")] == [["slow"], ["next"]]


def test_a_failing_progress_callback_loses_no_slot(emulator: Emulator, base_url: str) -> None:
    emulator.traffic.set_latency("embeddings", 0.1)
    emulator.traffic.set_limit(concurrent=100)  # observe only
    client = B3nClient(api_key="sk-callback", base_url=base_url)

    def fail(done: int, total: int) -> None:
        raise RuntimeError("callback bug")

    with pytest.raises(RuntimeError, match="callback bug"):
        client.embeddings.create(TEXTS, dimensions=8, batch_size=5, max_concurrency=4, on_progress=fail)
    emulator.reset()
    emulator.traffic.set_latency("embeddings", 0.1)
    emulator.traffic.set_limit(concurrent=100)
    vectors, _ = finish_within(
        10, lambda: client.embeddings.create(TEXTS, dimensions=8, batch_size=5, max_concurrency=4)
    )
    assert len(vectors) == len(TEXTS)
    assert emulator.traffic.peak_concurrency == 4  # every slot is still there


def test_many_keys_keep_a_bounded_number_of_limiters_and_bytes() -> None:
    def make(n: int, prefix: str) -> None:
        for i in range(n):
            limiter = shared_limiter("http://relay.invalid/v1", f"sk-{prefix}-{i}", 8)
            with limiter.slot() as slot:
                slot.succeeded()

    make(KEEP_IDLE, "warm")
    gc.collect()
    tracemalloc.start()
    try:
        make(1_000, "first")
        gc.collect()
        after_first, _ = tracemalloc.get_traced_memory()
        make(8_000, "second")
        gc.collect()
        after_second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after_second - after_first < 64 * 1024  # eight times the keys, no more memory
    import b3n._adaptive as adaptive

    assert len(adaptive._registry) <= KEEP_IDLE + 1


def test_a_limiter_in_use_is_never_duplicated_while_idle_ones_are_dropped() -> None:
    held = shared_limiter("http://relay.invalid/v1", "sk-held", 4)
    for i in range(KEEP_IDLE * 3):
        shared_limiter("http://relay.invalid/v1", f"sk-other-{i}", 4)
    gc.collect()
    assert shared_limiter("http://relay.invalid/v1", "sk-held", 4) is held


def test_a_limiters_history_stays_bounded() -> None:
    limiter = AdaptiveLimiter(8)
    for i in range(50_000):
        with limiter.slot() as slot:
            if i % 3 == 0:
                slot.rate_limited(None)
            else:
                slot.succeeded()
    assert len(limiter.stats().history) <= HISTORY_SIZE
    assert limiter.stats().admitted == 50_000


def test_a_key_refused_outright_holds_back_the_requests_waiting_for_a_slot(emulator: Emulator, base_url: str) -> None:
    emulator.traffic.set_latency("embeddings", 0.05)
    emulator.inject("rate_limit", route="embeddings", times=2, retry_after=0.5)  # both requests of the burst
    client = B3nClient(api_key="sk-refused-outright", base_url=base_url)

    def job(texts: list[str]) -> list[list[float]]:  # two jobs share the key's two slots: two requests wait
        return client.embeddings.create(texts, dimensions=8, batch_size=5, max_concurrency=2)

    other = threading.Thread(target=job, args=(TEXTS[20:],))
    other.start()
    assert len(job(TEXTS[:20])) == 20
    other.join()
    records = [r for r in emulator.requests if r.route.endswith("embeddings")]
    refused = [r for r in records if r.status == 429]
    assert len(refused) == 2 and len(records) == 8 + 2
    last_refusal = max(r.time for r in refused)
    # nothing of ours was in flight any more: the relay refuses the key, so nothing starts before Retry-After
    assert all(r.time - last_refusal >= 0.45 for r in records if r.status == 200)


@pytest.mark.parametrize("run_async", [False, True])
def test_a_408_on_a_billed_call_is_retried_because_nothing_was_processed(
    emulator: Emulator, base_url: str, run_async: bool
) -> None:
    emulator.inject("server_error", route="images", times=1, status=408)

    def generate() -> Any:
        if run_async:
            return asyncio.run(AsyncB3nClient(api_key="sk-408", base_url=base_url).images.generate("a red fox"))
        return B3nClient(api_key="sk-408", base_url=base_url).images.generate("a red fox")

    result = generate()
    assert result.images and result.images[0].url
    assert [r.status for r in emulator.requests if r.route.endswith("generations")] == [408, 200]


def test_langchain_sees_the_limiter_timeout_as_a_timeout_that_was_never_sent(
    emulator: Emulator, base_url: str
) -> None:
    from langchain_core.exceptions import ModelTimeoutError

    from langchain_b3n import B3nEmbeddings, B3nLimiterTimeoutError

    emulator.inject("rate_limit", route="embeddings", times=1, retry_after=3600)
    config = B3nConfig(api_key=SecretStr("sk-pause-lc"), base_url=base_url, max_retries=0, max_retry_after=7200)
    with pytest.raises(B3nRateLimitError):
        B3nClient(config=config).embeddings.create(["one"], dimensions=8, max_concurrency=1)
    waiting = B3nEmbeddings(api_key="sk-pause-lc", base_url=base_url, total_timeout=59.0, dimensions=8, max_concurrency=1)
    with pytest.raises(B3nLimiterTimeoutError) as caught:
        finish_within(5, lambda: waiting.embed_documents(["two"]))
    assert isinstance(caught.value, ModelTimeoutError)
    assert caught.value.request_sent is False and caught.value.is_retryable is False
    assert _embeddings(emulator) == 1
