"""The layout CONTRIBUTING describes holds: small core modules, a sans-IO chat core, one home for errors, no cycles.

The import graph is read from the source (``ast``), not from ``sys.modules``: an import counts wherever it
is written, at module level or inside a function (a deferred import is still a dependency, and a cycle
through one breaks as soon as the function runs during another module's import). Imports under
``if TYPE_CHECKING:`` do not count: they never run.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "b3n"
MAX_LINES = 600
#: what b3n/_chat/ may not import: the transport and its parts, httpx, the file-touching modules.
IO_MODULES = (
    "b3n._transport", "b3n._pools", "b3n._body", "b3n._prepared", "b3n._lazy", "b3n._chat_service",
    "b3n._probe_cache", "b3n._download", "b3n._media_common", "httpx", "httpcore", "os", "pathlib", "tempfile",
    "shutil", "io", "socket", "urllib.request",
)
#: calls that touch files or the network from plain code.
IO_CALLS = frozenset({"open", "urlopen"})


def _core_files() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if not p.is_relative_to(CORE / "testing"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def _imported_names(path: Path) -> set[str]:
    """Every module ``path`` imports outside ``if TYPE_CHECKING:`` (``from a import b`` gives ``a`` and ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    package = _module_name(path).split(".") if path.name == "__init__.py" else _module_name(path).split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _core_graph() -> dict[str, set[str]]:
    """Core module -> the core modules it imports (the package ``b3n`` itself, the lazy facade, left out)."""
    modules = {_module_name(p): p for p in _core_files()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imported_names(path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported not in (name, "b3n"):
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_among_core_modules() -> None:
    cycles = _cycles(_core_graph())
    assert not cycles, f"these core modules import each other (directly or around a loop): {cycles}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_core_module_is_at_most_600_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by job (at most {MAX_LINES})"


def test_the_chat_core_does_no_io() -> None:
    bad = []
    for path in sorted((CORE / "_chat").rglob("*.py")):
        for name in sorted(_imported_names(path)):
            if any(name == io or name.startswith(io + ".") for io in IO_MODULES):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if called in IO_CALLS or (called.startswith(("write_", "read_")) and called.endswith(("text", "bytes"))):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {called}")
    assert not bad, "b3n/_chat/ is sans-IO (CONTRIBUTING): move I/O beside the transport:\n" + "\n".join(bad)


def _walk(package: str, skip: tuple[str, ...] = ()) -> Iterator[ModuleType]:
    root = importlib.import_module(package)
    yield root
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if not info.name.startswith(skip):
            yield importlib.import_module(info.name)


def _exception_classes(module: ModuleType) -> list[type]:
    name = module.__name__
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, BaseException | Warning) and obj.__module__ == name]


def _class_defs_with_error_bases(path: Path) -> list[str]:
    """Classes written anywhere in ``path`` (also inside functions) whose bases name an error or a warning."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(base) for base in node.bases]
            if any(base.endswith(("Error", "Exception", "Warning", "EndedEarly")) for base in bases):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}({', '.join(bases)})")
    return found


def test_every_exception_and_warning_of_the_core_is_defined_in_b3n_errors() -> None:
    elsewhere = [f"{module.__name__}.{cls.__name__}" for module in _walk("b3n", skip=("b3n.testing",))
                 if module.__name__ != "b3n._errors" for cls in _exception_classes(module)]
    written = [found for path in _core_files() if path != CORE / "_errors.py"
               for found in _class_defs_with_error_bases(path)]
    assert not elsewhere and not written, (
        f"define exception and warning classes in b3n/_errors.py only: {elsewhere or written}"
    )


def test_langchain_adapter_defines_exceptions_only_in_its_errors_module() -> None:
    pytest.importorskip("langchain_core")
    package = ROOT / "langchain_b3n"
    elsewhere = [f"{module.__name__}.{cls.__name__}" for module in _walk("langchain_b3n")
                 if module.__name__ != "langchain_b3n.errors" for cls in _exception_classes(module)]
    written = [found for path in sorted(package.rglob("*.py")) if path.name != "errors.py"
               for found in _class_defs_with_error_bases(path)]
    assert not elsewhere and not written, (
        f"define the adapter's exception and warning classes in langchain_b3n/errors.py: {elsewhere or written}"
    )


def _plan_functions() -> Iterator[tuple[Path, ast.FunctionDef]]:
    """Every function of the core annotated to return a ``Plan[...]`` or a ``StreamPlan[...]``."""
    for path in _core_files():
        if path.name == "_plans.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.returns is not None:
                returns = ast.unparse(node.returns)
                if returns.startswith(("Plan[", "StreamPlan[")):
                    yield path, node


def test_plans_ask_for_io_only_through_typed_effects() -> None:
    """A plan's I/O is ``yield from effect`` (typed); a bare ``yield`` is only an ``Emit``; no plan holds a transport."""
    plans = list(_plan_functions())
    assert len(plans) >= 12, [node.name for _, node in plans]  # chat, native, media, account, models, embeddings
    bad = []
    for path, plan in plans:
        where = f"{path.relative_to(ROOT)}:{plan.lineno} {plan.name}"
        for node in ast.walk(plan):
            if isinstance(node, ast.Yield):
                value = node.value
                emitted = isinstance(value, ast.Call) and getattr(value.func, "id", "") == "Emit"
                if not emitted:
                    bad.append(f"{where}: bare `yield {ast.unparse(value) if value else ''}` (use `yield from effect`)")
            elif isinstance(node, ast.Attribute) and node.attr in {"transport", "_transport"}:
                bad.append(f"{where}: reaches the transport ({ast.unparse(node)}); ask the driver with an effect")
        for argument in plan.args.args:
            if argument.annotation is not None and "Transport" in ast.unparse(argument.annotation):
                bad.append(f"{where}: takes a transport ({argument.arg}); a plan gets its I/O from the driver")
    assert not bad, "plans yield typed effects (CONTRIBUTING, 'one plan, two drivers'):\n" + "\n".join(bad)
