"""Section 6: peak Python memory (tracemalloc) of a 10,000-text embedding job and of a long stream.

Each measurement runs in a fresh interpreter (nothing left over from other contenders), which
builds the client, warms it up with one small call (pools, lazy imports), then starts
``tracemalloc`` and runs the job. Reported: the peak during the job, what is still held after
it (the result itself: 10,000 x 1,536 Python floats are ~490 MB for everybody), and the
difference, i.e. the transient memory the client needed on top of its result.
tracemalloc makes every allocation slow, so these jobs run two at a time (2 cores).
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.benchmarks._emulator_proc import REPO_ROOT, child_env

EMBED_JOBS = ("lc_ours_sync", "lc_anchor_sync", "li_ours_sync", "li_anchor_sync")
STREAM_JOBS = ("lc_ours", "lc_anchor", "li_ours", "li_anchor", "bare")


def _worker(kind: str, key: str, base_url: str, n: int) -> dict[str, Any]:
    import tracemalloc

    from tests.benchmarks._contenders import chat_contenders, embed_contenders, embedding_texts

    if kind == "embed":
        contender = next(c for c in embed_contenders(base_url, tiktoken_ok=False) if c.key == key)
        texts = embedding_texts(n)
        contender.run(texts[:32])
        tracemalloc.start()
        result: Any = contender.run(texts)
        label = contender.label
    else:
        errors: dict[str, str] = {}
        chat = {c.key: c for c in chat_contenders(base_url, errors, check=False)}
        if key not in chat:
            raise RuntimeError(errors.get(key, f"no contender {key}"))
        stream = chat[key]
        stream.stream()
        tracemalloc.start()
        result = stream.stream()
        label = stream.label
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"label": label, "peak_mb": peak / 1e6, "retained_mb": current / 1e6, "items": len(result)}


def _run_one(kind: str, key: str, base_url: str, n: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), kind, key, base_url, str(n)],
        capture_output=True, text=True, env=child_env(), cwd=str(REPO_ROOT), timeout=240,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last[:300]}
    row: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    row["transient_mb"] = row["peak_mb"] - row["retained_mb"]
    return row


def measure_memory(
    base_url: str, set_chunks: Any, n: int = 10_000, chunks: int = 2000, parallel: int = 2
) -> dict[str, dict[str, Any]]:
    """``set_chunks(k)`` sets the emulator's reply length for the stream jobs."""
    out: dict[str, dict[str, Any]] = {}
    set_chunks(chunks)
    try:
        for key in STREAM_JOBS:
            out["stream:" + key] = _run_one("stream", key, base_url, chunks)
    finally:
        set_chunks(None)
    with ThreadPoolExecutor(parallel) as pool:
        futures = {key: pool.submit(_run_one, "embed", key, base_url, n) for key in EMBED_JOBS}
        for key, future in futures.items():
            out["embed:" + key] = future.result()
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    kind_arg, key_arg, url_arg, n_arg = sys.argv[1:5]
    print(json.dumps(_worker(kind_arg, key_arg, url_arg, int(n_arg))))
