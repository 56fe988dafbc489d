"""LlamaIndex's import convention works from this distribution: ``llama_index.llms.b3n`` and
``llama_index.embeddings.b3n`` are namespace portions next to llama-index-core, never shadowing it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]

_CODE = """
import llama_index, llama_index.core
from llama_index.llms.b3n import B3n
from llama_index.embeddings.b3n import B3nEmbedding
import llama_index_b3n
assert B3n is llama_index_b3n.B3n and B3nEmbedding is llama_index_b3n.B3nEmbedding
assert getattr(llama_index, "__file__", None) is None, "llama_index must stay a namespace package"
from llama_index.core import Settings
Settings.llm = B3n(model="gemini-1.5-flash-latest")
Settings.embed_model = B3nEmbedding(model_name="text-embedding-3-small")
print(len(list(llama_index.__path__)), Settings.llm.metadata.model_name)
"""


def test_llama_index_import_convention_resolves_to_our_classes(tmp_path: Path) -> None:
    # from another directory, with the repository root on the path the way an editable install puts it
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    portions, model = proc.stdout.split()
    assert int(portions) >= 2 and model == "gemini-1.5-flash-latest"  # ours and llama-index-core's


def test_the_wheel_ships_only_namespace_portions() -> None:
    for shared in ("llama_index", "llama_index/llms", "llama_index/embeddings"):
        assert not (ROOT / shared / "__init__.py").exists(), f"{shared}/__init__.py would shadow llama-index-core"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "llama_index" in pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    llamahub = pyproject["tool"]["llamahub"]
    assert llamahub["import_path"] == "llama_index.llms.b3n"
    assert set(llamahub["class_authors"]) == {"B3n", "B3nEmbedding"}
