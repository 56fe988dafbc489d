"""What a type checker reads is complete: every package ships ``py.typed``, and each facade's ``__all__`` is a
literal list (the adapters' plus ``__all__ += _exports.__all__``: the core names every facade re-exports, one
literal list in ``b3n._exports``), forms mypy and pyright read without running the module. Together they name
exactly the facade's lazy exports, each of them imported for type checkers: the core's by name, an adapter's own by
name and the shared ones by ``from b3n._exports import *`` (a star import re-exports)."""

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


def _module(name: str, file: str = "__init__.py") -> ast.Module:
    return ast.parse((ROOT / name / file).read_text(encoding="utf-8"))


def _literal_all(tree: ast.Module) -> list[str]:
    """``__all__`` as type checkers read it: a literal list, then ``__all__ += _exports.__all__`` (the shared names)."""
    names: list[str] | None = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            assert isinstance(node.value, ast.List), "__all__ must be a literal list"
            assert all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.value.elts)
            names = [e.value for e in node.value.elts]  # type: ignore[attr-defined]
        elif isinstance(node, ast.AugAssign) and getattr(node.target, "id", None) == "__all__":
            assert names is not None and ast.unparse(node.value) == "_exports.__all__", ast.unparse(node)
            names += _literal_all(_module("b3n", "_exports.py"))
    assert names is not None, "no __all__"
    return names


def _type_checking_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and [a.name for a in stmt.names] == ["*"]:
                    # a star import gives the names of the source's __all__ that it imports for type checkers
                    source = {"b3n._exports": ("b3n", "_exports.py"), "b3n": ("b3n", "__init__.py")}[str(stmt.module)]
                    tree_of_source = _module(*source)
                    names.update(set(_literal_all(tree_of_source)) & _type_checking_names(tree_of_source))
                elif isinstance(stmt, ast.ImportFrom):
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
