"""A user's type checker reads our annotations: the built wheel ships ``py.typed`` in every package, and
``mypy --strict`` checks a small program using the public API of ``b3n``, ``langchain_b3n`` and
``llama_index_b3n`` (and catches one that passes a wrong type).

The wheel is built once, installed with ``--no-deps`` into a fresh venv that sees this environment's
packages (``--system-site-packages``), and mypy runs from a directory outside the repository, so it can only
find the installed copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MYPY_CACHE = ROOT / ".mypy_cache" / "typed-consumer"

CONSUMER = '''
from __future__ import annotations

import asyncio

from b3n import AsyncB3nClient, B3nClient, B3nError, ChatCompletion, ModelInfo, get_model_info
from langchain_b3n import B3nEmbeddings, B3nRateLimitError, ChatB3n, get_b3n_callback
from llama_index.embeddings.b3n import B3nEmbedding as NamespacedEmbedding
from llama_index.llms.b3n import B3n as NamespacedB3n
from llama_index_b3n import B3n, B3nEmbedding, B3nTokenizer


def core(client: B3nClient) -> str:
    reply: ChatCompletion = client.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}])
    vectors: list[list[float]] = client.embeddings.create(["a", "b"])
    info: ModelInfo = get_model_info("gpt-4o-mini")
    balance: float = client.account.whoami().balance_usd
    return f"{reply.content} {len(vectors)} {info.context_window} {balance}"


async def core_async(client: AsyncB3nClient) -> str | None:
    reply = await client.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}])
    return reply.content


def langchain(llm: ChatB3n, embeddings: B3nEmbeddings) -> int:
    try:
        with get_b3n_callback() as cb:
            text = llm.invoke("say 1").text
        vector: list[float] = embeddings.embed_query("hello")
    except B3nRateLimitError as err:
        request_id: str | None = err.request_id
        return len(request_id or "")
    return len(text) + len(vector) + int(cb.total_cost)


def llama_index(llm: B3n, embedding: B3nEmbedding, tokenizer: B3nTokenizer) -> int:
    answer: str = llm.complete("say 1").text
    vector: list[float] = embedding.get_text_embedding("hello")
    same: bool = NamespacedB3n is B3n and NamespacedEmbedding is B3nEmbedding
    return len(answer) + len(vector) + len(tokenizer("hello")) + int(same)


def main() -> None:
    try:
        print(core(B3nClient(api_key="sk-test", timeout=5.0)))
        print(asyncio.run(core_async(AsyncB3nClient(api_key="sk-test"))))
    except B3nError:
        pass
    print(langchain(ChatB3n(model="gpt-4o-mini"), B3nEmbeddings(model="text-embedding-3-small")))
    print(llama_index(B3n(model="gpt-4o-mini"), B3nEmbedding(model_name="text-embedding-3-small"),
                      B3nTokenizer("gpt-4o-mini")))
'''

#: the same calls with one wrong type each; mypy must report every marked line.
WRONG = '''
from b3n import B3nClient
from langchain_b3n import ChatB3n
from llama_index_b3n import B3nEmbedding

client = B3nClient(api_key="sk-test", timeout="soon")  # WRONG: timeout is a number
count: int = client.chat.create("gpt-4o-mini", []).content  # WRONG: content is str | None
vector: list[str] = B3nEmbedding(model_name="text-embedding-3-small").get_text_embedding("x")  # WRONG: floats
ChatB3n(model="gpt-4o-mini").invoke(42)  # WRONG: not a prompt
'''


#: ``mypy --strict`` on Python 3.10 (the oldest we support). A missing import is an error for our three packages (a
#: wheel without ``py.typed``) and ignored elsewhere, as in pyproject.toml's [tool.mypy]: the other packages' options
#: then match the repository's own mypy run, whose cache entries for them stay valid here.
CONFIG = """\
[mypy]
strict = True
python_version = 3.10
ignore_missing_imports = True

[mypy-b3n.*,langchain_b3n.*,llama_index_b3n.*,llama_index.llms.b3n.*,llama_index.embeddings.b3n.*]
ignore_missing_imports = False
"""


def _seed_cache() -> None:
    """Start the consumer's cache from the repository's mypy cache the first time (CI: the lint step's)."""
    import shutil

    ours, theirs = MYPY_CACHE / "3.10", ROOT / ".mypy_cache" / "3.10"
    if not ours.exists() and theirs.is_dir():
        shutil.copytree(theirs, ours)


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding only the built wheel; this environment's packages (langchain-core, mypy, ...) are
    visible through a ``.pth`` line, after the venv's own site-packages, so ``b3n`` resolves to the wheel."""
    import sysconfig

    work = tmp_path_factory.mktemp("typed")
    built = _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work / "dist"),
                  str(ROOT)], cwd=work)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (work / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        files = set(archive.namelist())
    assert {"b3n/py.typed", "langchain_b3n/py.typed", "llama_index_b3n/py.typed"} <= files
    assert not any(name.startswith(("scripts/", "tests/", "docs/")) for name in files), sorted(files)
    venv.EnvBuilder(with_pip=False).create(work / "venv")
    python = work / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=work).stdout.strip())
    (site / "parent_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                      "--no-index", str(wheel)], cwd=work)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = _run([str(python), "-c", "import b3n, langchain_b3n, llama_index_b3n; print(b3n.__file__)"], cwd=work)
    assert where.returncode == 0 and where.stdout.startswith(str(site)), where.stdout + where.stderr
    return python


@pytest.mark.timeout(600)
def test_mypy_strict_accepts_the_public_api_and_catches_a_wrong_type(fresh_python: Path, tmp_path: Path) -> None:
    (tmp_path / "consumer.py").write_text(textwrap.dedent(CONSUMER), encoding="utf-8")
    (tmp_path / "wrong.py").write_text(textwrap.dedent(WRONG), encoding="utf-8")
    # the framework packages' analysis is cached between runs (their files do not change); ours is redone each time,
    # as the wheel's copy lives in a new directory. mypy.ini: --strict, plus the settings of the repository's own
    # mypy run for the other packages, so that run's cache (CI runs mypy first) serves the first run here too.
    (tmp_path / "mypy.ini").write_text(CONFIG, encoding="utf-8")
    _seed_cache()
    checked = _run([str(fresh_python), "-m", "mypy", "--no-error-summary", "--cache-dir", str(MYPY_CACHE),
                    "consumer.py", "wrong.py"], cwd=tmp_path)
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if e.startswith("consumer.py")], checked.stdout + checked.stderr
    wrong_lines = {i for i, line in enumerate(WRONG.splitlines(), 1) if "# WRONG" in line}
    flagged = {int(e.split(":")[1]) for e in errors if e.startswith("wrong.py")}
    assert flagged == wrong_lines, checked.stdout + checked.stderr
