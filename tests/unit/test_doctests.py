"""Every runnable example in our docstrings runs (the emulator ones start their own server)."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
from pathlib import Path

import pytest

import b3n
import langchain_b3n
import llama_index_b3n


def _modules() -> list[str]:
    names: list[str] = []
    for package in (b3n, langchain_b3n, llama_index_b3n):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A user who runs an example as written must not find their `b3n probe` cache changed afterwards,
    # and an example must not change the environment of whatever runs after it.
    monkeypatch.setenv("B3N_CACHE_DIR", str(tmp_path))
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
    assert os.environ.get("B3N_CACHE_DIR") == str(tmp_path), f"an example in {name} changed B3N_CACHE_DIR"
    assert list(tmp_path.iterdir()) == [], f"an example in {name} wrote to the user's cache directory"
