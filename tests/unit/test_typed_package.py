"""What a type checker reads is complete: every package ships ``py.typed``, and each facade's ``__all__`` is a
literal list (so mypy and pyright can read it without running the module) naming exactly its lazy exports, each
of them imported for type checkers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: every directory the wheel installs Python modules into (the two llama_index portions are namespace leaves).
TYPED_PACKAGES = ("b3n", "langchain_b3n", "llama_index_b3n", "llama_index/llms/b3n", "llama_index/embeddings/b3n")


@pytest.mark.parametrize("package", TYPED_PACKAGES)
def test_every_package_ships_py_typed(package: str) -> None:
    assert (ROOT / package / "py.typed").is_file()


def _module(name: str) -> ast.Module:
    return ast.parse((ROOT / name / "__init__.py").read_text(encoding="utf-8"))


def _literal_all(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            assert isinstance(node.value, ast.List), "__all__ must be a literal list"
            assert all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.value.elts)
            return [e.value for e in node.value.elts]  # type: ignore[attr-defined]
    raise AssertionError("no __all__")


def _type_checking_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    names.update(alias.asname or alias.name for alias in stmt.names)
    return names


@pytest.mark.parametrize("package", ["b3n", "langchain_b3n", "llama_index_b3n"])
def test_all_is_a_literal_list_of_the_lazy_exports_each_visible_to_type_checkers(package: str) -> None:
    import importlib

    tree = _module(package)
    names = _literal_all(tree)
    assert len(names) == len(set(names))
    module = importlib.import_module(package)
    assert names == module.__all__
    assert set(names) - {"__version__"} == set(module._LAZY)
    hidden = set(names) - {"__version__"} - _type_checking_names(tree)
    assert not hidden, f"{package}: import these under TYPE_CHECKING so type checkers see them: {sorted(hidden)}"
