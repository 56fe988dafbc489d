"""The emulator as a realistic relay: per-route latency with jitter and a per-input part, per-key 429 limits."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from b3n import B3nClient, B3nRateLimitError
from b3n.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]


_http = httpx.Client(timeout=10)  # one client: building one costs ~0.1 s (TLS context), which timings would see


def _embed(emu: Emulator, n: int = 1, key: str = "sk-a") -> httpx.Response:
    return _http.post(
        emu.base_url + "/embeddings", headers={"Authorization": f"Bearer {key}"}, timeout=10,
        json={"model": "text-embedding-3-small", "input": [f"t{i}" for i in range(n)], "dimensions": 4},
    )


def _parallel(calls: list[tuple[int, str]], emu: Emulator) -> list[httpx.Response]:
    results: list[httpx.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        results[i] = _embed(emu, *calls[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r for r in results if r is not None]


def test_latency_grows_with_the_batch_and_only_on_its_route(emulator: Emulator) -> None:
    emulator.traffic.set_latency("embeddings", 0.1, jitter=0.02, per_input=0.002, seed=1)
    _embed(emulator)  # a warm connection
    started = time.perf_counter()
    assert _embed(emulator, 1).status_code == 200
    small = time.perf_counter() - started
    started = time.perf_counter()
    assert _embed(emulator, 100).status_code == 200
    big = time.perf_counter() - started
    models = emulator.base_url + "/models"
    _http.get(models, headers={"Authorization": "Bearer sk-a"})  # warm
    started = time.perf_counter()
    _http.get(models, headers={"Authorization": "Bearer sk-a"})
    other = time.perf_counter() - started
    assert 0.08 <= small < 0.25
    assert 0.28 <= big < 0.5  # 0.1 +- 0.02 + 100 x 2 ms
    assert other < 0.07
    emulator.traffic.set_latency("embeddings", 0)  # removed
    started = time.perf_counter()
    _embed(emulator, 100)
    assert time.perf_counter() - started < 0.08


def test_concurrency_limit_answers_429_per_key_like_one_api(emulator: Emulator) -> None:
    emulator.traffic.set_latency("embeddings", 0.4)
    emulator.traffic.set_limit(concurrent=2, retry_after=1)
    responses = _parallel([(1, "sk-a")] * 3 + [(1, "sk-b")] * 2, emulator)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 200, 200, 429]  # the third sk-a request; sk-b has its own budget
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["retry-after"] == "1"
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and "(request id: " in error["message"]
    assert refused.elapsed.total_seconds() < 0.3  # refused at once, never waits for the model
    assert emulator.traffic.rejected == 1 and emulator.traffic.admitted == 4
    assert emulator.traffic.peak_concurrency == 2
    assert emulator.count("embeddings") == 5  # 429s are requests the relay received
    assert max(n for _, n in emulator.traffic.timeline) == 4  # both keys together
    # the server counts a request out after its last byte is sent, so the client may read it a moment earlier
    deadline = time.monotonic() + 2.0
    while emulator.traffic.timeline[-1][1] != 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert emulator.traffic.timeline[-1][1] == 0


def test_per_minute_limit_and_the_bare_in_memory_429(emulator: Emulator, api_key: str) -> None:
    emulator.traffic.set_limit(per_minute=2, body="empty")
    assert [_embed(emulator).status_code for _ in range(3)] == [200, 200, 429]
    refused = _embed(emulator)
    assert refused.status_code == 429 and refused.content == b"" and "retry-after" not in refused.headers
    # what our client makes of the relay's bare 429
    client = B3nClient(api_key="sk-a", base_url=emulator.base_url, max_retries=0)
    with pytest.raises(B3nRateLimitError) as info:
        client.embeddings.create(["x"])
    assert info.value.status_code == 429
    # another key is not limited; reset() removes the limit
    assert _embed(emulator, key=api_key).status_code == 200
    emulator.reset()
    assert emulator.traffic.limit is None and _embed(emulator).status_code == 200


def test_per_minute_json_body_says_what_the_limit_is(emulator: Emulator) -> None:
    emulator.traffic.set_limit(per_minute=1)
    _embed(emulator)
    body = _embed(emulator).json()
    assert body["error"]["type"] == "new_api_error" and "最多请求1次" in body["error"]["message"]


def test_bad_settings_are_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="concurrent"):
        emulator.traffic.set_limit(concurrent=0)
    with pytest.raises(ValueError, match=">= 0"):
        emulator.traffic.set_latency("chat", -1)


def test_b3n_emulator_command_takes_latency_and_limits() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "b3n.cli", "emulator", "--port", "0", "--latency", "0.2", "--per-input", "0.001",
         "--limit-concurrent", "1", "--retry-after", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={"PATH": "", "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
        assert match, line
        assert "latency 0.2 s" in line and "limit 1 in flight per key" in line
        base = match.group(1)
        results: list[int] = []

        def call() -> None:
            body = json.dumps({"model": "text-embedding-3-small", "input": ["a"]})
            r = httpx.post(base + "/embeddings", content=body, headers={"Authorization": "sk-x"}, timeout=10)
            results.append(r.status_code if r.status_code == 200 else int(r.headers["retry-after"]) * 1000)

        threads = [threading.Thread(target=call) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 2000]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
