"""Importing our facades costs little on top of the framework's own import (httpx and its CLI deferred).

Each case runs in a fresh interpreter under ``-X importtime``: the framework floor is imported first, then
our statement, and the CPU time of our statement alone is measured (CPU, not wall: it does not grow when
other work on the machine preempts the probe; a first run that compiles the .pyc files is just a slow run).
Issue 16's goal is 0.05 s on top of the floor; measured here it is 0.08-0.11 s for LangChain and ~0.05 s for
LlamaIndex (the floor itself is 0.9-1.4 s of CPU on this 2-core machine), so the goal is not met yet and this
test is a regression guard, not the goal: 0.15 s, or 15% of the floor's CPU when the machine is so loaded that
the floor itself is slow. The best of up to three runs counts. Independently of timing,
our import must not import httpx (which imports rich, click and pygments when they are installed),
numpy or tiktoken: those load on first use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOAL_S = 0.05  # issue 16's goal (not met yet: see the docstring)
BUDGET_S = 0.15  # the regression guard
FLOOR_SHARE = 0.15
DEFERRED = ("httpx", "rich", "click", "pygments", "numpy", "tiktoken", "ray")

CASES = {
    "langchain": (
        "import langchain_core.language_models.chat_models, langchain_core.embeddings",
        "from langchain_b3n import ChatB3n, B3nEmbeddings",
    ),
    "llama_index": (
        "import llama_index.core.base.embeddings.base, llama_index.core.llms.function_calling",
        "from llama_index_b3n import B3n, B3nEmbedding",
    ),
}

PROBE = """
import json, sys, time
c0 = time.process_time()
{floor}
c1 = time.process_time()
before = set(sys.modules)
{ours}
c2 = time.process_time()
added = set(sys.modules) - before
print(json.dumps({{"floor": c1 - c0, "ours": c2 - c1, "added": sorted(m for m in added if "." not in m)}}))
"""


def _probe(floor: str, ours: str) -> tuple[dict[str, object], str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # use (and write) .pyc files
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROBE.format(floor=floor, ours=ours)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def _ours_slowest(importtime: str, floor_last: str, n: int = 8) -> str:
    """The modules our statement imported, by self time (from -X importtime), for the failure message."""
    rows = [line.split("|") for line in importtime.splitlines() if line.startswith("import time:") and "[us]" not in line]
    names = [r[2].strip() for r in rows]
    start = max(i for i, name in enumerate(names) if name == floor_last) + 1
    ours = sorted(((int(r[0].split(":")[1]), r[2].strip()) for r in rows[start:]), reverse=True)[:n]
    return ", ".join(f"{name} {us / 1000:.1f} ms" for us, name in ours)


@pytest.mark.parametrize("case", sorted(CASES))
def test_import_cost_on_top_of_the_framework(case: str) -> None:
    floor, ours = CASES[case]
    best: dict[str, object] = {}
    importtime = ""
    for _ in range(3):
        result, importtime = _probe(floor, ours)
        assert not set(DEFERRED) & set(result["added"]), f"{ours} imported {set(DEFERRED) & set(result['added'])}"
        if not best or float(result["ours"]) < float(best["ours"]):  # type: ignore[arg-type]
            best = result
        if float(best["ours"]) <= GOAL_S:  # type: ignore[arg-type]
            break
    budget = max(BUDGET_S, FLOOR_SHARE * float(best["floor"]))  # type: ignore[arg-type]
    floor_last = floor.split(",")[-1].strip().removeprefix("import ").strip()
    assert float(best["ours"]) <= budget, (  # type: ignore[arg-type]
        f"{ours!r} took {float(best['ours']):.3f} s of CPU on top of the floor "  # type: ignore[arg-type]
        f"({float(best['floor']):.3f} s); budget {budget:.3f} s. Slowest: {_ours_slowest(importtime, floor_last)}"
    )
