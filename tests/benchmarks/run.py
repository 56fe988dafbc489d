"""Run every benchmark in one go against one emulator process; print and save the results.

Usage (from the repository root)::

    pip install -e ".[bench]"
    python -m tests.benchmarks.run            # full run (< 5 min on 2 cores), writes tests/benchmarks/results.md
    python -m tests.benchmarks.run --quick    # smaller sizes, for a smoke test; does not overwrite results.md
    python -m tests.benchmarks.run --only overhead,streaming

Sections: imports, overhead, streaming, concurrency, embeddings, memory, relay (our two framework classes on the
realistic relay job of ``tests/benchmarks/relay.py``, as a ratio to its best schedule).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python tests/benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("LANGCHAIN_TRACING_V2", "false")
for _name in [k for k in os.environ if k.startswith(("B3N_", "OPENAI_"))]:
    del os.environ[_name]  # the benchmark talks to the emulator only

from tests.benchmarks import _report as report  # noqa: E402
from tests.benchmarks._emulator_proc import EmulatorProcess  # noqa: E402

SECTIONS = ("imports", "overhead", "streaming", "concurrency", "embeddings", "memory", "relay")
#: the relay-job contenders run with the other sections (all of them: python -m tests.benchmarks.relay).
RELAY_CONTENDERS = ("ours_lc_sync", "ours_li_sync")
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.md"


def _sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {"import_runs": 3, "calls": 60, "warmup": 10, "chunks": 2000, "stream_repeats": 1,
                "concurrent": 200, "conc_repeats": 1, "texts": 2000, "embed_repeats": 1, "mem_texts": 2000,
                "relay_texts": 20_000}
    return {"import_runs": 7, "calls": 300, "warmup": 30, "chunks": 2000, "stream_repeats": 3,
            "concurrent": 200, "conc_repeats": 7, "texts": 10_000, "embed_repeats": 2, "mem_texts": 10_000,
            "relay_texts": 20_000}


def run(sections: list[str], quick: bool) -> dict[str, Any]:
    from tests.benchmarks import _chat, _contenders, _embed, _imports, _memory, relay

    size = _sizes(quick)
    results: dict[str, Any] = {"errors": {}, "timings": {}, "sizes": size, "load_before": report.loadavg()}
    started = time.perf_counter()

    def section(name: str, fn: Any) -> None:
        if name not in sections:
            return
        t0 = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            results[name] = fn()
        except Exception as exc:
            results["errors"][name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        results["timings"][name] = time.perf_counter() - t0
        print(f"[bench] {name} done in {results['timings'][name]:.1f} s", file=sys.stderr, flush=True)

    section("imports", lambda: _imports.measure_imports(runs=size["import_runs"]))
    with EmulatorProcess() as emu:
        results["emulator"] = f"separate process (pid {emu.pid}), {emu.base_url}"
        chat: list[_contenders.ChatContender] = []
        if {"overhead", "streaming", "concurrency"} & set(sections):
            chat = _contenders.chat_contenders(emu.base_url, results["errors"])
        section("overhead", lambda: _chat.measure_overhead(
            chat, calls=size["calls"], warmup=size["warmup"]))
        section("streaming", lambda: _chat.measure_streaming(
            chat, emu, chunks=size["chunks"], repeats=size["stream_repeats"]))
        section("concurrency", lambda: _chat.measure_concurrency(
            chat, emu, n=size["concurrent"], latency=0.05, repeats=size["conc_repeats"]))
        section("embeddings", lambda: _embed.run_embeddings(
            emu.base_url, n=size["texts"], repeats=size["embed_repeats"], server_cpu=emu.cpu_seconds))
        section("memory", lambda: _memory.measure_memory(
            emu.base_url, lambda k: emu.set(reply_chunks=k), n=size["mem_texts"], chunks=size["chunks"]))
        server_errors = emu.server_errors()
        if server_errors:
            results["errors"]["emulator"] = server_errors[-1][-300:]
    section("relay", lambda: relay.run(size["relay_texts"], list(RELAY_CONTENDERS)))  # its own shaped emulator
    results["total_s"] = time.perf_counter() - started
    results["load_after"] = report.loadavg()
    return results


def render(results: dict[str, Any], quick: bool) -> str:
    info = report.machine_info()
    size = results["sizes"]
    out = [
        "# Benchmark results",
        "",
        f"Run {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')} with "
        f"`python -m tests.benchmarks.run{' --quick' if quick else ''}` at commit {info['commit']}, "
        f"total {results['total_s']:.0f} s.",
        "",
        f"- Machine: {info['nproc']} CPUs, {info['cpu']}; {info['platform']}",
        f"- Python: {info['python']}",
        f"- Packages: {info['packages']}",
        f"- Load average (1/5/15 min) before: {results['load_before']}, after: {results['load_after']} "
        "(other work on the machine makes wall times noisy; client CPU columns are steadier)",
        f"- Server: the bundled emulator in a {results.get('emulator', 'separate process')}; every contender "
        "talks to that same instance over loopback. Client CPU = `time.process_time()` of the benchmark process.",
        "",
    ]
    if "imports" in results or any(k in results for k in ("overhead", "streaming", "relay")):
        goals, passed, total = report.goals_table(results)
        out += ["## Goals", "", goals, "", f"{passed}/{total} goals met.", ""]
    if "imports" in results:
        out += [f"## 1. Import time (median of {size['import_runs']} fresh interpreters) and construction", "",
                "Import time of the statement alone (interpreter start-up excluded), as CPU time of the fresh "
                "process (the goals use it: it does not grow when other work on the machine preempts the probe) "
                "and as wall time. \"Paired\": the median over the rounds of ours/anchor and ours - floor (each round runs "
                "the cases back to back). Floors: the framework base classes plus httpx. \"On top of the floor\": "
                "the floor is imported first in the same process and only our import is timed (what our own modules "
                "cost). Separate fresh processes also differ by the order in which third-party packages get "
                "imported (langsmith/pydantic model building costs more when langchain_core.callbacks comes first; "
                "cProfile shows the same Python work, the extra is memory/page-fault time) and by +-50 ms of noise "
                "on a shared machine. "
                "Constructions: the first one in "
                "the process (lazy work included) and the median of the next five.", "", report.imports_md(results["imports"]), ""]
    if "overhead" in results:
        out += [f"## 2. Per-call overhead ({size['calls']} sequential short calls each, interleaved call by call)", "",
                "`invoke(\"say 1\")` / `chat([...])`; bare = `httpx.Client.post` of the same body + `.json()`.", "",
                report.overhead_md(results["overhead"]), ""]
    if "streaming" in results:
        out += [f"## 3. Streaming ({size['chunks']:,}-chunk reply, median of {size['stream_repeats']})", "",
                "`stream()` / `stream_chat()`; bare = httpx + httpx-sse + `json.loads` per event.", "",
                report.streaming_md(results["streaming"], size["chunks"]), ""]
    if "embeddings" in results:
        emb = results["embeddings"]
        out += [f"## 4. Embeddings ({emb['n']:,} short texts, median of {size['embed_repeats']})", "",
                "Every contender with its default batching; results checked (count, 1,536 floats each).", ""]
        if emb.get("tiktoken_problem"):
            out += [f"`OpenAIEmbeddings()` with pure defaults (`check_embedding_ctx_length=True`): "
                    f"{emb['tiktoken_problem']}.", ""]
        out += [report.embeddings_md(emb), ""]
    if "concurrency" in results:
        out += [f"## 5. Concurrency ({size['concurrent']} concurrent calls, emulator adds 50 ms per request, "
                f"median of {size['conc_repeats']} bursts)", "",
                "`asyncio.gather` of `ainvoke` / `achat`; bare = one `httpx.AsyncClient` sized for the burst "
                "(`max_connections=1000`, keep-alive 20) and one with httpx defaults; \"vs bare\" divides by the "
                "faster of the two.", "",
                report.concurrency_md(results["concurrency"]), ""]
    if "memory" in results:
        out += [f"## 6. Peak memory (tracemalloc, fresh process per job: {size['chunks']:,}-chunk stream, "
                f"{size['mem_texts']:,}-text embedding job)", "",
                report.memory_md(results["memory"]), ""]
    if "relay" in results:
        rows = [[row.get("label", key), row.get("wall_s", row.get("error")), report.relay_ratio(results, key)]
                for key, row in results["relay"]["rows"].items()]
        out += [f"## Realistic relay job, ours at defaults ({results['relay']['n']:,} texts; the best schedule is "
                f"{report.RELAY_BEST_SCHEDULE_S} s)", "",
                "One run each, in a fresh process, against the shaped emulator of `python -m tests.benchmarks.relay` "
                "(300 ms + 1 ms per input, 8 concurrent requests per key); that script runs every contender.", "",
                report.table(["Client", "wall s", "x best schedule"], rows), ""]
    if results["errors"]:
        out += ["## Errors", ""] + [f"- {k}: {v}" for k, v in results["errors"].items()] + [""]
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in results["timings"].items())
    out += [f"Section times: {timings}.", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test); results.md is not written")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--output", type=Path, default=None, help=f"markdown file to write (default {DEFAULT_OUTPUT})")
    parser.add_argument("--json", type=Path, default=None, help="also dump the raw numbers as JSON here")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    results = run(sections, args.quick)
    text = render(results, args.quick)
    print(text)
    output = args.output or (None if args.quick or set(sections) != set(SECTIONS) else DEFAULT_OUTPUT)
    if output is not None:
        previous = output.read_text() if output.exists() else ""
        start, end = "<!-- relay:start -->", "<!-- relay:end -->"
        if start in previous and end in previous:  # section 7 comes from tests/benchmarks/relay.py: keep it
            text = text.rstrip("\n") + "\n\n" + start + previous.split(start, 1)[1].split(end, 1)[0] + end + "\n"
        output.write_text(text)
        print(f"[bench] wrote {output}", file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
