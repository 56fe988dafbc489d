"""The distribution's metadata says what the code needs: runtime dependencies are exactly the third-party
modules the packages import (optional ones behind an extra), development tools stay out of the packages, and the
LlamaHub table names both LlamaIndex classes."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGES = ("b3n", "langchain_b3n", "llama_index_b3n", "llama_index")
OWN = {"b3n", "langchain_b3n", "llama_index_b3n", "llama_index"}
#: import name -> distribution name, where they differ.
DISTRIBUTION = {"langchain_core": "langchain-core"}
#: imports the core makes only when a feature is used (guarded, inside a function), and the extra providing them;
#: typing_extensions is read only by type checkers (pydantic, a runtime dependency, requires it).
OPTIONAL = {"tiktoken": "tokens", "numpy": "numpy", "typing_extensions": "pydantic"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level third-party module -> files importing it, over every module the wheel ships."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in OWN and top not in sys.stdlib_module_names:
                        found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_runtime_dependencies_are_what_the_core_imports() -> None:
    runtime = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    core_imports = {m.replace("_", "-") for m, files in _third_party_imports().items()
                    if any(f.startswith("b3n/") for f in files)}
    optional = {m.replace("_", "-") for m in OPTIONAL}
    assert runtime == core_imports - optional, (runtime, core_imports)


def test_every_third_party_import_is_declared() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    declared |= {_name(r) for reqs in extras.values() for r in reqs if not r.startswith("b3n-integrations")}
    for module in _third_party_imports():
        name = DISTRIBUTION.get(module, module.replace("_", "-"))
        if module == "llama_index":
            name = "llama-index-core"
        if module == "typing_extensions":
            continue  # type checkers only; pydantic requires it
        assert name in declared, f"{module} is imported but no dependency or extra provides it"


def test_development_tools_are_not_in_the_packages() -> None:
    shipped = {p.relative_to(ROOT).as_posix() for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    assert not any("catalog_table" in p or "griffe" in p for p in shipped), shipped
    assert (ROOT / "scripts" / "catalog_table.py").is_file()
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert sorted(wheel) == sorted(PACKAGES)


def test_llamahub_names_the_llm_and_the_embedding() -> None:
    import importlib

    hub = PYPROJECT["tool"]["llamahub"]
    assert set(hub["class_authors"]) == {"B3n", "B3nEmbedding"}
    assert importlib.import_module(hub["import_path"]).B3n is importlib.import_module("llama_index_b3n").B3n
    for name, module in (("B3n", "llama_index.llms.b3n"), ("B3nEmbedding", "llama_index.embeddings.b3n")):
        assert getattr(importlib.import_module(module), name) is getattr(importlib.import_module("llama_index_b3n"), name)
