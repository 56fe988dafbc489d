"""Sections 2, 3 and 5: per-call overhead, streaming throughput, 200 concurrent calls.

Client CPU is ``time.process_time`` of this process; the emulator runs in another process, so
its work is not counted. Contenders are interleaved in rounds so drift hits everyone alike.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from typing import Any

from tests.benchmarks._contenders import ChatContender, bare_ainvoke
from tests.benchmarks._emulator_proc import EmulatorProcess


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_overhead(
    contenders: list[ChatContender], calls: int = 300, warmup: int = 30
) -> dict[str, dict[str, Any]]:
    """``calls`` sequential short invokes per contender: latency median/p95 and client CPU per call.

    Calls are interleaved one by one (A B C D E, then B C D E A, ...), so drift and bursts of other
    load on the machine hit every contender alike.
    """
    for c in contenders:
        for _ in range(warmup):
            c.invoke()
    lat: dict[str, list[float]] = {c.key: [] for c in contenders}
    cpu: dict[str, float] = dict.fromkeys(lat, 0.0)
    gc.collect()
    for i in range(calls):
        shift = i % len(contenders)
        for c in contenders[shift:] + contenders[:shift]:
            cpu0, t0 = time.process_time(), time.perf_counter()
            c.invoke()
            lat[c.key].append(time.perf_counter() - t0)
            cpu[c.key] += time.process_time() - cpu0
    out: dict[str, dict[str, Any]] = {}
    for c in contenders:
        samples = lat[c.key]
        out[c.key] = {
            "label": c.label,
            "calls": len(samples),
            "median_ms": statistics.median(samples) * 1000,
            "p95_ms": _pct(samples, 0.95) * 1000,
            "cpu_ms": cpu[c.key] / len(samples) * 1000,
        }
    bare = out.get("bare")
    for row in out.values():
        if bare is not None:
            row["overhead_ms"] = row["median_ms"] - bare["median_ms"]
            row["overhead_p95_ms"] = row["p95_ms"] - bare["p95_ms"]
            row["cpu_overhead_ms"] = row["cpu_ms"] - bare["cpu_ms"]
    return out


def measure_streaming(
    contenders: list[ChatContender], emu: EmulatorProcess, chunks: int = 2000, repeats: int = 3
) -> dict[str, dict[str, Any]]:
    """Consume a ``chunks``-chunk reply through each contender's stream API."""
    emu.set(reply_chunks=chunks)
    try:
        expected = " ".join(["1"] * chunks)
        for c in contenders:  # warm-up, and check that everybody really receives the whole reply
            text = "".join(c.stream()).strip()
            if text != expected:
                raise RuntimeError(f"{c.label} streamed {len(text.split())} words, expected {chunks}")
        walls: dict[str, list[float]] = {c.key: [] for c in contenders}
        cpus: dict[str, list[float]] = {c.key: [] for c in contenders}
        counts: dict[str, int] = {}
        for r in range(repeats):
            for c in contenders if r % 2 == 0 else contenders[::-1]:
                gc.collect()
                cpu0, t0 = time.process_time(), time.perf_counter()
                pieces = c.stream()
                walls[c.key].append(time.perf_counter() - t0)
                cpus[c.key].append(time.process_time() - cpu0)
                counts[c.key] = len(pieces)
    finally:
        emu.set(reply_chunks=None)
    out: dict[str, dict[str, Any]] = {}
    for c in contenders:
        wall = statistics.median(walls[c.key])
        cpu = statistics.median(cpus[c.key])
        out[c.key] = {
            "label": c.label,
            "events": counts[c.key],
            "wall_s": wall,
            "chunks_per_s": chunks / wall,
            "cpu_us_per_chunk": cpu / chunks * 1e6,
        }
    return out


def measure_concurrency(
    contenders: list[ChatContender], emu: EmulatorProcess, n: int = 200, latency: float = 0.05, repeats: int = 3
) -> dict[str, dict[str, Any]]:
    """Wall time of ``n`` concurrent async calls with ``latency`` seconds added by the server per request."""

    cpus: dict[str, list[float]] = {key: [] for key in [*(c.key for c in contenders), "bare_default"]}

    labels = {c.key: c.label for c in contenders}
    labels["bare_default"] = "bare httpx.AsyncClient() (httpx default limits)"

    async def main() -> dict[str, list[float]]:
        calls = {c.key: c.make_ainvoke() for c in contenders}
        if "bare" in calls:
            calls["bare_default"] = bare_ainvoke(emu.base_url, None)
        walls: dict[str, list[float]] = {k: [] for k in calls}
        for call in calls.values():  # warm-up: open the pools
            await asyncio.gather(*(call() for _ in range(n)))
        for r in range(repeats):
            for key in list(calls) if r % 2 == 0 else list(calls)[::-1]:
                gc.collect()
                cpu0, t0 = time.process_time(), time.perf_counter()
                replies = await asyncio.gather(*(calls[key]() for _ in range(n)))
                walls[key].append(time.perf_counter() - t0)
                cpus[key].append(time.process_time() - cpu0)
                bad = [x for x in replies if x.strip() != "1"]
                if bad:
                    raise RuntimeError(f"{key}: {len(bad)} unexpected replies, e.g. {bad[0]!r}")
        return walls

    emu.set(latency=latency)
    try:
        walls = asyncio.run(main())
    finally:
        emu.set(latency=0.0)
    out: dict[str, dict[str, Any]] = {}
    for key, samples in walls.items():
        out[key] = {
            "label": labels[key],
            "wall_s": statistics.median(samples),
            "all_s": samples,
            "cpu_s": statistics.median(cpus[key]),
        }
    # the physical limit: the faster of the two bare configurations
    bares = [out[k]["wall_s"] for k in ("bare", "bare_default") if k in out]
    if bares:
        for row in out.values():
            row["vs_bare"] = row["wall_s"] / min(bares)
    return out
