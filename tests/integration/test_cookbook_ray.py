"""``cookbook/ray_ingest.py`` runs offline on a local 2-CPU Ray: same vectors as one process, the key's budget kept.

One run of the script as a subprocess (Ray's own start-up takes ~10-15 s here); the test checks what it
prints and that no Ray process outlives it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

ROOT = Path(__file__).resolve().parents[2]
BUDGET_S = 120


def _ray_processes() -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"raylet" in cmdline or b"gcs_server" in cmdline or b"ray::" in cmdline:
            pids.add(int(entry.name))
    return pids


@pytest.mark.timeout(BUDGET_S + 30)
def test_ray_ingest_runs_offline_identical_to_one_process() -> None:
    before = _ray_processes()
    env = {k: v for k, v in os.environ.items() if not k.startswith("B3N_")}
    env["PYTHONUNBUFFERED"] = "1"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "cookbook" / "ray_ingest.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=BUDGET_S)
    seconds = time.perf_counter() - started
    out = done.stdout
    assert done.returncode == 0, f"exit {done.returncode}\n{out}\n{done.stderr[-3000:]}"
    assert out.startswith("No B3N_API_KEY set: running offline")
    assert "identical to the single-process run: True" in out
    relay = re.search(r"^relay: (\d+) requests, (\d+) answered 429, at most (\d+) in flight \(limit 8\)$", out,
                      re.MULTILINE)
    assert relay is not None, out
    assert int(relay.group(3)) <= 8  # two workers of 4 never exceed the key's budget
    assert "100 documents -> 200 embedded chunks on 2 workers; identical to the single-process pipeline: True" in out
    assert "Ray stopped: True" in out
    assert "sk-cookbook" not in out + done.stderr  # the key never shows
    assert seconds < BUDGET_S
    deadline = time.monotonic() + 10
    while _ray_processes() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _ray_processes() - before, "Ray processes outlived the script"
