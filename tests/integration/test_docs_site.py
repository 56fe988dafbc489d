"""The documentation site builds strictly (a broken link, reference or docstring section fails) and its API
reference shows the signatures users call, read from the rendered HTML."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    return out


def _signature(page: str, identifier: str) -> str:
    start = page.index(f'id="{identifier}"')
    block = re.search(r'class="doc-signature highlight"><pre>(.*?)</pre>', page[start:], flags=re.DOTALL)
    assert block is not None, identifier
    return html.unescape(re.sub(r"<[^>]+>", "", block.group(1)))


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("page", "identifier", "shown", "hidden"),
    [
        # methods whose arguments come from a builder (arguments_of): the builder's, not (self, payload)
        ("b3n", "b3n.ImagesService.generate", ("prompt: str", "size:", "response_format:"), ("payload",)),
        ("b3n", "b3n.AsyncImagesService.generate", ("prompt: str", "quality:"), ("payload",)),
        ("b3n", "b3n.EmbeddingsService.create", ("texts: Sequence[str]", "dimensions:", "long_inputs:"), ("call",)),
        ("b3n", "b3n.AudioService.transcribe", ("file:", "language:"), ("request",)),
        # pydantic models: their fields under the names users pass, not **data
        ("langchain_b3n", "langchain_b3n.ChatB3n", ("model: str", "api_key:", "reasoning_effort:"), ("**data",)),
        ("langchain_b3n", "langchain_b3n.B3nEmbeddings", ("model_name: str", "dimensions:"), ("**kwargs",)),
        ("llama_index_b3n", "llama_index_b3n.B3n", ("model: str", "api_base:"), ()),
        ("b3n", "b3n.B3nClient", ("api_key:", "base_url:", "max_retries: int = 2"), ()),
    ],
)
def test_reference_shows_the_signatures_users_call(
    site: Path, page: str, identifier: str, shown: tuple[str, ...], hidden: tuple[str, ...]
) -> None:
    signature = _signature((site / "api" / page / "index.html").read_text(encoding="utf-8"), identifier)
    for text in shown:
        assert text in signature, (text, signature)
    for text in hidden:
        assert text not in signature, (text, signature)


@pytest.mark.timeout(600)
def test_google_sections_render_as_tables_and_examples_as_code(site: Path) -> None:
    page = (site / "api" / "b3n" / "index.html").read_text(encoding="utf-8")
    start = page.index('id="b3n.ChatService.create"')
    section = page[start : page.index('id="b3n.ChatService.stream"')]
    for title in ("Parameters:", "Returns:", "Raises:"):
        assert title in html.unescape(re.sub(r"<[^>]+>", "", section)), title
    emulator = page[page.index('id="b3n.testing.Emulator"'):]
    assert "&gt;&gt;&gt;" in emulator[:20000] and "<code>" in emulator[:20000]
