"""Section 1: import time and construction cost, each sample in a fresh interpreter.

Each sample runs ``python -c`` with a tiny probe: it times the import statement alone (interpreter
start-up is the same for everybody and excluded) as CPU time of that process (what the import
costs; unlike wall time it does not grow when other work on the machine preempts the probe) and as
wall time, then the first construction of each class
(lazy work included), then the median of 5 further constructions. Samples of the different cases
are interleaved so that drift on the machine hits every case alike.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from tests.benchmarks._emulator_proc import REPO_ROOT, child_env

KEY = "sk-bench0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
URL = "http://127.0.0.1:9/v1"  # construction does no I/O; nothing listens here


@dataclass(frozen=True)
class ImportCase:
    key: str
    label: str
    statement: str
    #: class label -> constructor expression evaluated after the import
    constructors: dict[str, str] = field(default_factory=dict)
    #: top-level packages that must NOT be imported by the statement
    forbidden: tuple[str, ...] = ()
    #: run first, untimed (to time the marginal cost of ``statement`` on top of it)
    preload: str = ""


LC_FLOOR = "import httpx, langchain_core.language_models.chat_models, langchain_core.embeddings"
LI_FLOOR = "import httpx, llama_index.core.llms.function_calling, llama_index.core.base.embeddings.base"

CASES: tuple[ImportCase, ...] = (
    ImportCase(
        "lc_ours",
        "langchain_b3n (ours)",
        "from langchain_b3n import ChatB3n, B3nEmbeddings",
        {
            "ChatB3n": f"ChatB3n(model='gpt-4o-mini', api_key={KEY!r}, base_url={URL!r})",
            "B3nEmbeddings": f"B3nEmbeddings(api_key={KEY!r}, base_url={URL!r})",
        },
        forbidden=("llama_index", "openai", "langchain_openai"),
    ),
    ImportCase(
        "lc_anchor",
        "langchain_openai",
        "from langchain_openai import ChatOpenAI, OpenAIEmbeddings",
        {
            "ChatOpenAI": f"ChatOpenAI(model='gpt-4o-mini', api_key={KEY!r}, base_url={URL!r})",
            "OpenAIEmbeddings": f"OpenAIEmbeddings(api_key={KEY!r}, base_url={URL!r})",
        },
    ),
    ImportCase("lc_floor", "LangChain floor (httpx + langchain_core bases)", LC_FLOOR),
    ImportCase(
        "lc_marginal",
        "langchain_b3n on top of the LangChain floor (same process)",
        "from langchain_b3n import ChatB3n, B3nEmbeddings",
        preload=LC_FLOOR,
    ),
    ImportCase(
        "li_ours",
        "llama_index_b3n (ours)",
        "from llama_index_b3n import B3n, B3nEmbedding",
        {
            "B3n": f"B3n(model='gpt-4o-mini', api_key={KEY!r}, api_base={URL!r})",
            "B3nEmbedding": f"B3nEmbedding(api_key={KEY!r}, api_base={URL!r})",
        },
        forbidden=("langchain_core", "openai", "llama_index.llms.openai"),
    ),
    ImportCase(
        "li_anchor",
        "llama_index OpenAILike + OpenAIEmbedding",
        "from llama_index.llms.openai_like import OpenAILike; from llama_index.embeddings.openai import OpenAIEmbedding",
        {
            "OpenAILike": f"OpenAILike(model='gpt-4o-mini', api_key={KEY!r}, api_base={URL!r}, is_chat_model=True)",
            "OpenAIEmbedding": (
                f"OpenAIEmbedding(model_name='text-embedding-3-small', api_key={KEY!r}, api_base={URL!r})"
            ),
        },
    ),
    ImportCase("li_floor", "LlamaIndex floor (httpx + llama_index.core bases)", LI_FLOOR),
    ImportCase(
        "li_marginal",
        "llama_index_b3n on top of the LlamaIndex floor (same process)",
        "from llama_index_b3n import B3n, B3nEmbedding",
        preload=LI_FLOOR,
    ),
)

_PROBE = r"""
import json, sys, time, statistics
case = json.loads(sys.argv[1])
ns = {}
if case["preload"]:
    exec(case["preload"], ns)
c0, t0 = time.process_time(), time.perf_counter()
exec(case["statement"], ns)
out = {"import_s": time.perf_counter() - t0, "import_cpu_s": time.process_time() - c0, "first_ms": {}, "warm_ms": {}}
for name, expr in case["constructors"].items():
    t0 = time.perf_counter()
    eval(expr, ns)
    out["first_ms"][name] = (time.perf_counter() - t0) * 1000
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        eval(expr, ns)
        samples.append((time.perf_counter() - t0) * 1000)
    out["warm_ms"][name] = statistics.median(samples)
out["leaked"] = sorted(p for p in case["forbidden"] if any(m == p or m.startswith(p + ".") for m in sys.modules))
print(json.dumps(out))
"""


def _sample(case: ImportCase) -> dict[str, Any]:
    arg = json.dumps({"statement": case.statement, "constructors": case.constructors, "forbidden": case.forbidden,
                      "preload": case.preload})
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, arg],
        capture_output=True, text=True, env=child_env(), cwd=str(REPO_ROOT), timeout=120,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
        return {"error": tail[0]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def measure_imports(runs: int = 7) -> dict[str, dict[str, Any]]:
    """Median import seconds and construction ms per case, over ``runs`` fresh interpreters each."""
    samples: dict[str, list[dict[str, Any]]] = {c.key: [] for c in CASES}
    for _ in range(runs):
        for case in CASES:
            samples[case.key].append(_sample(case))
    results: dict[str, dict[str, Any]] = {}
    for case in CASES:
        ok = [s for s in samples[case.key] if "error" not in s]
        if not ok:
            results[case.key] = {"label": case.label, "error": samples[case.key][0]["error"]}
            continue
        results[case.key] = {
            "label": case.label,
            "statement": case.statement,
            "import_s": statistics.median(s["import_s"] for s in ok),
            "import_cpu_s": statistics.median(s["import_cpu_s"] for s in ok),
            "import_all_s": [s["import_s"] for s in ok],
            "import_cpu_all_s": [s["import_cpu_s"] for s in ok],
            "first_ms": {n: statistics.median(s["first_ms"][n] for s in ok) for n in case.constructors},
            "warm_ms": {n: statistics.median(s["warm_ms"][n] for s in ok) for n in case.constructors},
            "leaked": sorted({p for s in ok for p in s["leaked"]}),
            "runs": len(ok),
        }
    _paired(results)
    return results


def _paired(results: dict[str, dict[str, Any]]) -> None:
    """Median over rounds of ours/anchor and ours - floor (samples of one round ran back to back)."""
    for ours, anchor, floor in (("lc_ours", "lc_anchor", "lc_floor"), ("li_ours", "li_anchor", "li_floor")):
        mine = results.get(ours, {}).get("import_cpu_all_s")
        if not mine:
            continue
        other = results.get(anchor, {}).get("import_cpu_all_s")
        if other and len(other) == len(mine):
            results[ours]["paired_vs_anchor"] = statistics.median(a / b for a, b in zip(mine, other, strict=True))
        base = results.get(floor, {}).get("import_cpu_all_s")
        if base and len(base) == len(mine):
            results[ours]["paired_vs_floor_s"] = statistics.median(a - b for a, b in zip(mine, base, strict=True))


if __name__ == "__main__":
    print(json.dumps(measure_imports(runs=int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=1))
