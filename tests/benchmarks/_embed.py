"""Section 4: embedding throughput for a 10,000-text job, sync and async, ours vs the anchors."""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.benchmarks._contenders import embed_contenders, embedding_texts
from tests.benchmarks._emulator_proc import REPO_ROOT, child_env

_TIKTOKEN_PROBE = "import tiktoken; tiktoken.get_encoding('cl100k_base')"


def probe_tiktoken(timeout: float = 30.0) -> str | None:
    """None when ``OpenAIEmbeddings()`` defaults can tokenize offline; else why not."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _TIKTOKEN_PROBE],
            capture_output=True, text=True, env=child_env(), cwd=str(REPO_ROOT), timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"tiktoken download of cl100k_base did not finish in {timeout:.0f} s (needs the internet)"
    if proc.returncode == 0:
        return None
    last = (proc.stderr.strip().splitlines() or ["?"])[-1]
    return f"needs the internet: tiktoken downloads cl100k_base on first use and failed here ({last[:160]})"


def run_embeddings(
    base_url: str, n: int = 10_000, repeats: int = 2, server_cpu: Callable[[], float] | None = None
) -> dict[str, Any]:
    """Texts per second for each contender; every result is checked (count, size, float components).

    ``server_cpu()`` (the emulator's CPU seconds so far) lets the table show how much of the wall
    time the server itself needed.
    """
    tiktoken_problem = probe_tiktoken()
    texts = embedding_texts(n)
    contenders = embed_contenders(base_url, tiktoken_ok=tiktoken_problem is None)
    rows: dict[str, dict[str, Any]] = {}
    warm = texts[:64]
    for c in contenders:
        try:
            c.run(warm)
        except Exception as exc:
            rows[c.key] = {"label": c.label, "mode": c.mode, "error": f"{type(exc).__name__}: {exc}"[:300]}
    live = [c for c in contenders if c.key not in rows]
    walls: dict[str, list[float]] = {c.key: [] for c in live}
    cpus: dict[str, list[float]] = {c.key: [] for c in live}
    server: dict[str, list[float]] = {c.key: [] for c in live}
    for r in range(repeats):
        for c in live if r % 2 == 0 else live[::-1]:
            if c.key in rows:
                continue
            gc.collect()
            s0 = server_cpu() if server_cpu is not None else 0.0
            cpu0, t0 = time.process_time(), time.perf_counter()
            try:
                vectors = c.run(texts)
            except Exception as exc:
                rows[c.key] = {"label": c.label, "mode": c.mode, "error": f"{type(exc).__name__}: {exc}"[:300]}
                continue
            walls[c.key].append(time.perf_counter() - t0)
            cpus[c.key].append(time.process_time() - cpu0)
            if server_cpu is not None:
                server[c.key].append(server_cpu() - s0)
            _check(c.label, vectors, n)
            del vectors
    for c in live:
        if c.key in rows:
            continue
        wall = statistics.median(walls[c.key])
        rows[c.key] = {
            "label": c.label,
            "framework": c.framework,
            "ours": c.ours,
            "mode": c.mode,
            "wall_s": wall,
            "texts_per_s": n / wall,
            "cpu_s": statistics.median(cpus[c.key]),
            "server_cpu_s": statistics.median(server[c.key]) if server[c.key] else None,
        }
    if tiktoken_problem is not None:
        rows["lc_anchor_defaults"] = {"label": "OpenAIEmbeddings() defaults (tiktoken)", "mode": "sync",
                                      "error": tiktoken_problem}
    return {"n": n, "rows": rows, "tiktoken_problem": tiktoken_problem}


def _check(label: str, vectors: list[list[float]], n: int) -> None:
    if len(vectors) != n:
        raise RuntimeError(f"{label} returned {len(vectors)} vectors for {n} texts")
    sizes = {len(v) for v in vectors[:: max(1, n // 50)]}
    if sizes != {1536}:
        raise RuntimeError(f"{label} returned vectors of sizes {sizes}, expected 1536")
    if not isinstance(vectors[-1][0], float):
        raise RuntimeError(f"{label} returned {type(vectors[-1][0]).__name__} components, expected float")
