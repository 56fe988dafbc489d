"""CONTRIBUTING.md matches the code: its folder tree lists the modules on disk, and its arrows are the imports."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
PACKAGES = ("b3n", "langchain_b3n", "llama_index_b3n")


def _tree() -> list[str]:
    """Paths in the ``## Folder tree`` block, rebuilt from the two-space indentation."""
    text = CONTRIBUTING.read_text(encoding="utf-8")
    section = text[text.index("\n## Folder tree\n"):]
    block = re.search(r"```text\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    paths: list[str] = []
    parents: list[str] = []
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        parents = parents[:depth]
        path = "".join(parents) + name
        paths.append(path)
        if name.endswith("/"):
            parents.append(name)
    return paths


def _modules_on_disk() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith("b3n/testing/"):  # the emulator is listed as one folder
                found.add(rel)
    return found


def test_every_path_in_the_tree_exists() -> None:
    missing = [p for p in _tree() if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"CONTRIBUTING.md's folder tree lists paths that do not exist: {missing}"


def test_every_module_is_in_the_tree() -> None:
    unlisted = sorted(_modules_on_disk() - set(_tree()))
    assert not unlisted, f"add these modules to the folder tree in CONTRIBUTING.md: {unlisted}"


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.add(node.module)
    return names


def _violations(folder: str, allowed: Callable[[str, Path], bool]) -> list[str]:
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in sorted(_imports(path)):
            if not allowed(name, path):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    return bad


def _top(name: str) -> str:
    return name.split(".")[0]


FRAMEWORKS = {"langchain", "langchain_core", "langgraph", "llama_index"}


def test_the_core_imports_neither_framework_nor_adapter_and_only_the_cli_imports_the_emulator() -> None:
    def allowed(name: str, path: Path) -> bool:
        if path.is_relative_to(ROOT / "b3n" / "testing"):
            return True  # checked below
        if _top(name) in FRAMEWORKS | {"langchain_b3n", "llama_index_b3n"}:
            return False
        return not (name.startswith("b3n.testing") and path != ROOT / "b3n" / "cli.py")

    assert not _violations("b3n", allowed)


def test_the_emulator_uses_the_standard_library_only() -> None:
    def allowed(name: str, path: Path) -> bool:
        return name.startswith("b3n.testing") or _top(name) in sys.stdlib_module_names

    assert not _violations("b3n/testing", allowed)


def test_each_adapter_imports_the_core_and_never_the_other_framework() -> None:
    def langchain_side(name: str, path: Path) -> bool:
        return _top(name) not in {"llama_index", "llama_index_b3n"}

    def llama_index_side(name: str, path: Path) -> bool:
        return _top(name) not in {"langchain", "langchain_core", "langgraph", "langchain_b3n"}

    assert not _violations("langchain_b3n", langchain_side)
    assert not _violations("llama_index_b3n", llama_index_side)
