"""Mutation testing of the modules that decide correctness (standard library only; run on demand, not in CI).

Each mutant is one small behaviour-changing edit of one module's syntax tree: a comparison flipped
(``==``/``!=``, ``<``/``<=``, ``in``/``not in``, ``is``/``is not``), ``and``/``or`` swapped, a ``not``
dropped, ``+``/``-`` swapped, a boolean or small integer constant changed, or a statement (``raise``,
``return``, assignment, call, ``break``/``continue``) replaced by ``pass``. A mutant is *killed* when the
module's fast test subset (below) fails or times out; otherwise it *survives*.

To stay quick on a small machine, the heavy imports (httpx, pydantic, langchain-core, llama-index) are done
once; each mutant runs in a forked child that writes the mutated module into a scratch copy of the
repository, drops our own packages from ``sys.modules`` and runs pytest in-process.

Usage::

    python scripts/mutation.py                      # every module below, every mutant
    python scripts/mutation.py b3n/_sse.py          # one module
    python scripts/mutation.py --list b3n/_sse.py   # show the mutants, run nothing
    python scripts/mutation.py --sample 60 --seed 1 # at most 60 random mutants per module
    python scripts/mutation.py b3n/_sse.py --only 12,40   # these mutants (numbers from --list)

Survivors are printed as ``module:line  description``; :data:`EQUIVALENT` lists mutants that cannot change
behaviour (excluded from the score, each with its reason).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: module -> its fast test subset (files or node ids), run for every mutant of the module.
SUBSETS: dict[str, list[str]] = {
    "b3n/_chat/stream.py": [
        "tests/unit/test_core_stream.py", "tests/unit/test_stream_linear.py",
        "tests/integration/test_stream_assembly_edges.py",
    ],
    "b3n/_chat/response.py": [
        "tests/unit/test_core_response.py", "tests/unit/test_core_stream.py",
        "tests/integration/test_stream_assembly_edges.py", "tests/integration/test_hostile_json.py",
    ],
    "b3n/_sse.py": ["tests/unit/test_sse.py", "tests/integration/test_stream_assembly_edges.py"],
    "b3n/_retry.py": [
        "tests/unit/test_core_errors.py", "tests/unit/test_wire_details.py", "tests/integration/test_retry_loop.py",
        "tests/integration/test_retry_after_malformed.py", "tests/integration/test_stream_assembly_edges.py",
    ],
    "b3n/_adaptive.py": [
        "tests/unit/test_wire_details.py", "tests/integration/test_adaptive_concurrency.py",
        "tests/integration/test_limiter_bounds.py",
    ],
    "langchain_b3n/_messages.py": [
        "tests/unit/test_langchain_chat_messages.py", "tests/unit/test_langchain_chat_model.py",
        "tests/unit/test_wire_details.py",
        "tests/integration/test_stream_assembly_edges.py", "tests/integration/test_hostile_json.py",
    ],
    "llama_index_b3n/_messages.py": [
        "tests/unit/test_llamaindex_llm_unit.py", "tests/unit/test_llamaindex_cache_point.py",
        "tests/unit/test_wire_details.py",
        "tests/integration/test_llamaindex_llm.py",
    ],
}

#: (module, line, description) of mutants that cannot change what a user sees, with the reason.
EQUIVALENT: dict[tuple[str, int, str], str] = {
    ("b3n/_sse.py", 98, "remove return"): "falls through to partition(':'), whose field is not 'data': None again",
    ("b3n/_sse.py", 105, "remove return"): "the last statement of feed(): the implicit return is None too",
    ("b3n/_chat/stream.py", 193, "remove return"): "with safe <= 0 the slices below give the same ('', '') and "
                                                   "keep the whole buffer",
    ("b3n/_chat/stream.py", 192, "LtE -> Lt"): "at safe == 0 the slices below give ('', '') too",
    ("b3n/_retry.py", 164, "True -> False"): "RetryPolicy(frozen=False): nothing assigns to a policy's fields",
    ("langchain_b3n/_messages.py", 162, "remove return"): "iterating a str gives its characters, which the loop "
                                                          "below joins back unchanged",
    ("b3n/_retry.py", 278, "IsNot -> Is"): "afirst() not closing: whole-body attempts close their response before "
                                           "they yield, and asyncio's async-generator finalizer closes the rest",
}

#: seconds a mutant's run may take beyond the unmutated run's time, times this factor.
TIMEOUT_FACTOR = 3.0

_COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {ast.Add: ast.Sub, ast.Sub: ast.Add}
_REMOVABLE = (ast.Raise, ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Break, ast.Continue)


@dataclass(frozen=True)
class Mutant:
    module: str
    number: int  # position in the walk (stable for an unchanged module)
    line: int
    description: str


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _sites(tree: ast.Module) -> Iterator[tuple[ast.AST, str, str]]:
    """Every mutation site in walk order: (node, kind, description)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                swap = _COMPARE_SWAPS.get(type(op))
                if swap is not None:
                    yield node, f"cmp{i}", f"{type(op).__name__} -> {swap.__name__}"
        elif isinstance(node, ast.BoolOp):
            yield node, "bool", f"{type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "not", "drop not"
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            yield node, "binop", f"{type(node.op).__name__} -> {_BINOP_SWAPS[type(node.op)].__name__}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield node, "const", f"{node.value} -> {not node.value}"
        elif (isinstance(node, ast.Constant) and type(node.value) is int and 0 <= node.value <= 1024):
            yield node, "const", f"{node.value} -> {node.value + 1}"
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            for index, stmt in enumerate(stmts):
                if not isinstance(stmt, _REMOVABLE) or _is_docstring(stmt, node):
                    continue
                if isinstance(stmt, ast.Expr) and not isinstance(stmt.value, (ast.Call, ast.Await, ast.Yield,
                                                                                ast.YieldFrom)):
                    continue
                yield stmt, f"del:{field}:{index}:{id(node)}", f"remove {type(stmt).__name__.lower()}"


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes not worth mutating: ``__all__``, ``__slots__``, type annotations, logging calls, f-strings."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # the wording of a message (excerpt lengths included) is not scored
            skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("__all__", "__slots__")
                                                 for t in node.targets):
            skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, (ast.AnnAssign, ast.arg)) and node.annotation is not None:
            skip.update(id(n) for n in ast.walk(node.annotation))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            skip.update(id(n) for n in ast.walk(node.returns))
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip.update(id(n) for n in ast.walk(node))
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and isinstance(node.value.func.value, ast.Name) and node.value.func.value.id == "logger"):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def mutants(module: str, root: Path = REPO) -> list[Mutant]:
    tree = ast.parse((root / module).read_text(encoding="utf-8"))
    skip = _skipped(tree)
    found = []
    for number, (node, _, description) in enumerate(_sites(tree)):
        if id(node) in skip:
            continue
        found.append(Mutant(module, number, getattr(node, "lineno", 0), description))
    return found


def mutated_source(mutant: Mutant, original: str) -> str:
    tree = ast.parse(original)
    for number, (node, kind, _) in enumerate(_sites(tree)):
        if number != mutant.number:
            continue
        if kind.startswith("cmp"):
            i = int(kind[3:])
            assert isinstance(node, ast.Compare)
            node.ops[i] = _COMPARE_SWAPS[type(node.ops[i])]()
        elif kind == "bool":
            assert isinstance(node, ast.BoolOp)
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif kind == "not":
            assert isinstance(node, ast.UnaryOp)
            _replace(tree, node, node.operand)
        elif kind == "binop":
            assert isinstance(node, ast.BinOp)
            node.op = _BINOP_SWAPS[type(node.op)]()
        elif kind == "const":
            assert isinstance(node, ast.Constant)
            node.value = (not node.value) if isinstance(node.value, bool) else node.value + 1
        else:
            _, field, index, _ = kind.split(":")
            parent = next(p for p in ast.walk(tree) if getattr(p, field, None) is not None
                          and isinstance(getattr(p, field), list) and len(getattr(p, field)) > int(index)
                          and getattr(p, field)[int(index)] is node)
            getattr(parent, field)[int(index)] = ast.copy_location(ast.Pass(), node)
        return ast.unparse(ast.fix_missing_locations(tree))
    raise LookupError(mutant)


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new
                        return


# ----------------------------------------------------------------------------------------------- running


def _scratch() -> Path:
    """A copy of the repository's packages and tests (no bytecode), where mutants are written."""
    root = Path(tempfile.mkdtemp(prefix="b3n-mutation-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".mypy_cache", ".ruff_cache", "benchmarks")
    for name in ("b3n", "langchain_b3n", "llama_index_b3n", "llama_index", "tests", "cookbook"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, root / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "CONTRIBUTING.md"):
        shutil.copy2(REPO / name, root / name)
    if (REPO / "docs").exists():
        shutil.copytree(REPO / "docs", root / "docs", ignore=ignore)
    return root


def _preload() -> None:
    """Import the heavy third-party packages once, before forking (children inherit them)."""
    import httpx  # noqa: F401
    import hypothesis  # noqa: F401
    import pydantic  # noqa: F401
    import pytest  # noqa: F401

    for name in ("langchain_core.messages", "langchain_core.language_models", "llama_index.core.llms",
                 "llama_index.core.base.llms.types", "langchain_tests.unit_tests", "numpy"):
        with contextlib.suppress(ImportError):
            __import__(name)


_OURS = ("b3n", "langchain_b3n", "llama_index_b3n", "llama_index.llms.b3n", "llama_index.embeddings.b3n", "tests")


def _run_tests(root: Path, tests: list[str], module: str, timeout: float) -> str:
    """``killed``, ``survived`` or ``timeout``: the test subset in a forked child, on the scratch copy."""
    pid = os.fork()
    if pid == 0:  # the child
        code = 3
        try:
            os.chdir(root)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            sys.dont_write_bytecode = True
            for name in list(sys.modules):
                if name.split(".")[0] in _OURS or name.startswith(_OURS):
                    del sys.modules[name]
            sys.path.insert(0, str(root))
            import pytest

            doctest_target = [module] if module.startswith("b3n/") else []
            code = int(pytest.main(["-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly", "--timeout=60",
                                    "--doctest-modules", *tests, *doctest_target]))
        finally:
            os._exit(code)
    ends = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
        if time.monotonic() > ends:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.05)


def run(modules: list[str], sample: int | None, seed: int, only: set[int] | None = None) -> int:
    _preload()
    root = _scratch()
    totals = {"killed": 0, "survived": 0, "timeout": 0, "equivalent": 0}
    survivors: list[Mutant] = []
    try:
        for module in modules:
            tests = SUBSETS[module]
            original = (root / module).read_text(encoding="utf-8")
            started = time.monotonic()
            baseline = _run_tests(root, tests, module, timeout=600)
            took = time.monotonic() - started
            if baseline != "survived":
                print(f"{module}: the unmutated test subset fails; fix that first", flush=True)
                return 2
            found = mutants(module, root)
            if only is not None:
                found = [m for m in found if m.number in only]
            elif sample is not None and len(found) > sample:
                found = sorted(random.Random(seed).sample(found, sample), key=lambda m: m.number)
            counts = {"killed": 0, "survived": 0, "timeout": 0, "equivalent": 0}
            print(f"{module}: {len(found)} mutants, subset {took:.1f}s", flush=True)
            for mutant in found:
                key = (module, mutant.line, mutant.description)
                if key in EQUIVALENT:
                    counts["equivalent"] += 1
                    continue
                (root / module).write_text(mutated_source(mutant, original), encoding="utf-8")
                try:
                    outcome = _run_tests(root, tests, module, timeout=max(20.0, took * TIMEOUT_FACTOR))
                finally:
                    (root / module).write_text(original, encoding="utf-8")
                counts[outcome] += 1
                if outcome == "survived":
                    survivors.append(mutant)
                    print(f"  SURVIVED {module}:{mutant.line}  #{mutant.number}  {mutant.description}", flush=True)
            scored = counts["killed"] + counts["timeout"] + counts["survived"]
            caught = counts["killed"] + counts["timeout"]
            print(f"  {module}: {caught}/{scored} caught ({100 * caught / max(scored, 1):.0f}%), "
                  f"{counts['equivalent']} equivalent excluded", flush=True)
            for name, value in counts.items():
                totals[name] += value
    finally:
        shutil.rmtree(root, ignore_errors=True)
    scored = totals["killed"] + totals["timeout"] + totals["survived"]
    caught = totals["killed"] + totals["timeout"]
    print(f"TOTAL: {caught}/{scored} behaviour-changing mutants caught ({100 * caught / max(scored, 1):.1f}%), "
          f"{totals['timeout']} by timeout, {totals['equivalent']} equivalent excluded", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"default: {' '.join(SUBSETS)}")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--sample", type=int, help="at most this many random mutants per module")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="comma-separated mutant numbers (see --list); one module")
    args = parser.parse_args(argv)
    modules = args.modules or list(SUBSETS)
    unknown = [m for m in modules if m not in SUBSETS]
    if unknown:
        parser.error(f"no test subset for {unknown}; add one to SUBSETS")
    if args.list:
        for module in modules:
            for m in mutants(module):
                print(f"{module}:{m.line}  #{m.number}  {m.description}")
        return 0
    only = {int(n) for n in args.only.split(",")} if args.only else None
    if only is not None and len(modules) != 1:
        parser.error("--only takes exactly one module")
    return run(modules, args.sample, args.seed, only)


if __name__ == "__main__":
    sys.exit(main())
