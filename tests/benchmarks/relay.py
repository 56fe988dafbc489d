"""Throughput against a realistic relay: latency per request and a per-key limit with 429s.

Usage (from the repository root)::

    pip install -e ".[bench]"            # the anchors (ray too for the Ray row: pip install -e ".[ray]")
    python -m tests.benchmarks.relay     # ~3 minutes; writes its section into tests/benchmarks/results.md

The job: 20,000 short distinct texts, ``text-embedding-3-small`` with ``dimensions=256``. The relay (the
bundled emulator in its own process, shaped with ``emu.traffic``) answers each embeddings request in
300 ms (+- 50) + 1 ms per input, admits 8 concurrent requests per key and answers 429 with
``Retry-After: 1`` beyond that; a request carries at most 2,048 inputs. The best schedule any client can
reach is 3.1 s: 16 requests of 1,250 texts, every slot busy, two requests per slot (0.3 + 1.25 s each).

Every contender runs at its default settings in a fresh process (a cold start: our limiter must find
the limit) and is measured by wall time, requests (429s included), 429s, the relay's peak concurrency,
the vectors (count, size and a digest of every component in order: all contenders must agree), the
emulator's count of texts it embedded (each exactly once) and the process's peak RSS.

The floor rows are a client that knows the relay in advance (16 equal requests, 8 at a time, no 429) and
checks nothing: httpx, ``json`` and ``base64`` into lists. They show how close a client returning lists of
floats can get to the best schedule on this machine. ``--against-floor N`` runs ours and the floor in the same
framework's process, interleaved N times, and prints the medians (about a minute per repeat).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python tests/benchmarks/relay.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks import _report as report
from tests.benchmarks._emulator_proc import REPO_ROOT, EmulatorProcess, child_env

N_TEXTS = 20_000
LATENCY = {"route": "embeddings", "base": 0.3, "jitter": 0.05, "per_input": 0.001, "seed": 7}
LIMIT = {"concurrent": 8, "retry_after": 1}
BEST_SCHEDULE_S = report.RELAY_BEST_SCHEDULE_S
GOAL_RATIO = report.RELAY_GOAL_RATIO
RESULTS = Path(__file__).resolve().parent / "results.md"
START, END = "<!-- relay:start -->", "<!-- relay:end -->"

CONTENDERS: list[tuple[str, str]] = [
    ("ours_lc_sync", "B3nEmbeddings.embed_documents (ours)"),
    ("ours_lc_async", "B3nEmbeddings.aembed_documents (ours)"),
    ("ours_li_sync", "B3nEmbedding.get_text_embedding_batch (ours)"),
    ("ours_li_async", "B3nEmbedding.aget_text_embedding_batch (ours)"),
    ("ours_core_float32", "B3nClient.embeddings.create_array (ours, core, float32)"),
    ("lc_anchor", "OpenAIEmbeddings.embed_documents"),
    ("li_anchor", "OpenAIEmbedding.get_text_embedding_batch"),
    ("ray_2_workers", "ray.data map_batches, 2 workers sharing the key (ours)"),
    ("floor", "floor: httpx + json + base64, the limit known, no checks"),
    ("floor_lc", "floor, in LangChain's process (after building B3nEmbeddings)"),
    ("floor_li", "floor, in LlamaIndex's process (after building B3nEmbedding)"),
]
#: ours next to the floor in the same framework's process (``--against-floor N``).
PAIRS = (("ours_lc_sync", "floor_lc"), ("ours_li_sync", "floor_li"))
SETTLING = ("ours_lc_sync_small_batches", "B3nEmbeddings(batch_size=256): 80 requests, the limiter's steady state")


def _run_job(name: str, base_url: str, n: int, timeout: float = 600) -> dict[str, Any]:
    if name == "ray_2_workers":
        cmd = [sys.executable, str(REPO_ROOT / "cookbook" / "ray_ingest.py"), "--bench", base_url, str(n)]
    else:
        cmd = [sys.executable, "-m", "tests.benchmarks._relay_job", name, base_url, str(n)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), cwd=str(REPO_ROOT), timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run(n: int = N_TEXTS, only: list[str] | None = None) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    with EmulatorProcess() as emu:
        for name, label in [*CONTENDERS, SETTLING]:
            if only and name not in only:
                continue
            emu.reset()
            emu.traffic(latency=LATENCY, limit=LIMIT)
            print(f"[relay] {label} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            row = _run_job(name, emu.base_url, n)
            row["label"] = label
            row["elapsed_s"] = time.perf_counter() - started
            stats = emu.traffic_stats()
            counts = emu.counts()
            row["requests"] = counts.get("POST /v1/embeddings", 0)
            row["rate_limited"] = stats["rejected"]
            row["peak"] = stats["peak"]
            row["timeline"] = stats["timeline"]
            row["served"] = emu.served_inputs()
            rows[name] = row
            print(f"[relay] {label}: {row.get('wall_s', row.get('error'))}", file=sys.stderr, flush=True)
    return {"n": n, "rows": rows, "load": report.loadavg()}


def _over_floor(rows: dict[str, dict[str, Any]]) -> str:
    """One line: ours over the floor measured in the same framework's process (one run each)."""
    parts = []
    for ours, floor in PAIRS:
        a, b = rows.get(ours, {}).get("wall_s"), rows.get(floor, {}).get("wall_s")
        if a and b:
            parts.append(f"{dict(CONTENDERS)[ours]} {a / b:.3f}x")
    return ("Ours over the floor in the same framework's process (one run each; `--against-floor N` for medians): "
            + ", ".join(parts) + ".") if parts else ""


def against_floor(repeats: int, n: int = N_TEXTS) -> str:
    """Ours and the floor in the same framework's process, interleaved ``repeats`` times: medians and ratios.

    One run of the job moves by ~0.1 s from run to run on a shared machine (when the garbage collector runs
    matters), which is as large as the differences measured; medians of interleaved runs are not.
    """
    walls: dict[str, list[float]] = {name: [] for pair in PAIRS for name in pair}
    with EmulatorProcess() as emu:
        for _ in range(repeats):
            for name in walls:
                emu.reset()
                emu.traffic(latency=LATENCY, limit=LIMIT)
                row = _run_job(name, emu.base_url, n)
                if "error" in row:
                    raise RuntimeError(f"{name}: {row['error']}")
                walls[name].append(row["wall_s"])
    rows = []
    for ours, floor in PAIRS:
        a, b = statistics.median(walls[ours]), statistics.median(walls[floor])
        rows.append([dict(CONTENDERS)[ours], f"{a:.2f}", f"{a / BEST_SCHEDULE_S:.2f}x", f"{b:.2f}",
                     f"{b / BEST_SCHEDULE_S:.2f}x", f"{a / b:.3f}x"])
    return (f"Medians of {repeats} interleaved runs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load "
            f"average {report.loadavg()}:\n\n"
            + report.table(["Client", "wall s", "x best", "floor s (same process)", "floor x best", "ours / floor"],
                           rows))


def _concurrency_table(timeline: list[list[float]], step: float = 0.5) -> str:
    """Requests in flight at the relay (max per ``step`` seconds), from the emulator's timeline."""
    if not timeline:
        return "(no timeline)"
    origin = timeline[0][0]  # the first request (the job's process start-up is not shown)
    timeline = [[t - origin, n] for t, n in timeline]
    end = timeline[-1][0]
    cells: list[list[Any]] = []
    t, i, current = 0.0, 0, 0
    while t <= end + 1e-9:
        peak = current
        while i < len(timeline) and timeline[i][0] < t + step:
            current = int(timeline[i][1])
            peak = max(peak, current)
            i += 1
        cells.append([f"{t:.1f}-{t + step:.1f}", peak])
        t += step
    return report.table(["seconds", "in flight (max)"], cells)


def _limit_steps(history: list[list[float]]) -> str:
    """The client limiter's limit each time it changed: ``t: limit``."""
    steps: list[str] = []
    last = None
    for t, limit, _ in history:
        if limit != last:
            steps.append(f"{t:.2f} s: {int(limit)}")
            last = limit
    return ", ".join(steps)


def render(results: dict[str, Any]) -> str:
    rows = results["rows"]
    n = results["n"]
    digests = {r["digest"] for r in rows.values() if "digest" in r}
    table_rows = []
    for name, row in rows.items():
        if name == SETTLING[0]:
            continue
        if "error" in row:
            table_rows.append([row["label"], "error: " + row["error"], None, None, None, None, None, None, None])
            continue
        served = row["served"]
        ok = row["vectors"] == n and row["dims"] == 256 and len(digests) == 1
        table_rows.append([
            row["label"], row["wall_s"], f"{row['wall_s'] / BEST_SCHEDULE_S:.2f}x", row["requests"], row["rate_limited"], row["peak"],
            "yes" if ok else "NO", f"{served['total']:,} / {served['distinct']:,}", row["maxrss_mb"],
        ])
    ours = rows.get("ours_lc_sync", {})
    goals = []

    def goal(name: str, target: str, measured: float | None, passed: bool) -> None:
        goals.append([name, target, "n/a" if measured is None else f"{measured:.2f}", "PASS" if passed else "MISS"])

    wall = ours.get("wall_s")
    for key in ("ours_lc_sync", "ours_li_sync"):
        ratio = report.relay_ratio({"relay": results}, key)  # (relay_ratio reads the sections of run.py)
        goal(f"{rows.get(key, {}).get('label', key)} at defaults / the {BEST_SCHEDULE_S} s best schedule",
             f"<= {GOAL_RATIO:.2f}x", ratio, ratio is not None and ratio <= GOAL_RATIO)
    for key in ("lc_anchor", "li_anchor"):
        anchor = rows.get(key, {}).get("wall_s")
        speedup = anchor / wall if anchor and wall else None
        goal(f"speed-up vs {rows.get(key, {}).get('label', key)}", ">= 3x", speedup,
             speedup is not None and speedup >= 3)
    lost = [r["label"] for r in rows.values() if "served" in r and "error" not in r
            and (r["served"]["total"] != n or r["served"]["distinct"] != n)]
    goal("texts embedded exactly once (emulator counts), every contender", "0 lost / duplicated", float(len(lost)),
         not lost)
    settling = rows.get(SETTLING[0], {})
    steady = _steady_concurrency(settling.get("timeline", []))
    goal("limiter settles within 10% of the relay's limit (8): median in flight, steady part", "7.2-8", steady,
         steady is not None and 7.2 <= steady <= 8)
    out = [
        START,
        f"## 7. Against a realistic relay ({n:,} texts, `dimensions=256`; 300 ms +- 50 + 1 ms per input per "
        "request; 8 concurrent requests per key, 429 + `Retry-After: 1` beyond; at most 2,048 inputs a request)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python -m tests.benchmarks.relay`, load "
        f"average {results['load']}. Every contender at its defaults, each in a fresh process. The best "
        f"possible schedule is {BEST_SCHEDULE_S} s (16 requests of 1,250 texts, two per slot).",
        "",
        report.table(["Goal", "Target", "Measured", "Result"], goals),
        "",
        report.table(["Client", "wall s", "x best", "requests", "429s", "peak in flight", "every vector in order",
                      "texts served / distinct", "peak RSS MB"], table_rows),
        "",
        _over_floor(rows),
        "",
        "`OpenAIEmbeddings` runs with `check_embedding_ctx_length=False` (its default downloads a tiktoken file, "
        "which fails offline); everything else is at its defaults. \"Every vector in order\": the count, the size "
        "and a digest of every float32 component in order are identical for every contender. The clock starts "
        "once the contender is constructed and httpx is imported (the anchors import it when constructed, ours on "
        "the first request; a cold process pays ~0.2 s more for that import whichever library it uses).",
        "",
    ]
    if ours.get("limiter"):
        out += [f"Our limiter in the default run (limit over time): {_limit_steps(ours['limiter']['history'])}.", ""]
    if "timeline" in ours:
        out += ["Requests in flight at the relay during our default run:", "", _concurrency_table(ours["timeline"]),
                ""]
    if settling and "timeline" in settling:
        out += [f"Settling: {SETTLING[1]} ({settling.get('wall_s', 0):.1f} s, {settling.get('requests')} requests, "
                f"{settling.get('rate_limited')} 429s). Limit over time: "
                f"{_limit_steps(settling.get('limiter', {}).get('history', []))}.", "",
                _concurrency_table(settling["timeline"]), ""]
    out.append(END)
    return "\n".join(out)


def _steady_concurrency(timeline: list[list[float]]) -> float | None:
    """Median of requests in flight, sampled every 50 ms between the first 20% and the last 20% of the run."""
    if not timeline:
        return None
    start, end = timeline[0][0], timeline[-1][0]
    lo, hi = start + 0.2 * (end - start), start + 0.8 * (end - start)
    samples, i, current, t = [], 0, 0, lo
    while t <= hi:
        while i < len(timeline) and timeline[i][0] <= t:
            current = int(timeline[i][1])
            i += 1
        samples.append(current)
        t += 0.05
    samples.sort()
    return float(samples[len(samples) // 2]) if samples else None


def write(section: str, path: Path = RESULTS) -> None:
    """Put ``section`` into ``path`` between the relay markers (appended when absent)."""
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.relay", description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=N_TEXTS)
    parser.add_argument("--only", default="", help="comma-separated contender keys")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update results.md")
    parser.add_argument("--against-floor", type=int, default=0, metavar="N",
                        help="only ours and the floor in the same process, interleaved N times (prints medians)")
    args = parser.parse_args(argv)
    if args.against_floor:
        print(against_floor(args.against_floor, args.texts))
        return 0
    results = run(args.texts, [s for s in args.only.split(",") if s])
    section = render(results)
    print(section)
    if not args.no_write:
        write(section)
        print(f"[relay] wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
