"""The README and the docs stay true: the README is one screen plus the two set-up commands, the model table is the
catalog's, the first command installs what the cookbook needs, the documented tables match the code, and every code
example (README, ``docs/*.md``, ``CONTRIBUTING.md``) runs against the emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import b3n
from b3n import _errors as core_errors
from b3n._catalog import MODELS
from scripts.catalog_table import (
    END_MARKER,
    START_MARKER,
    extract_between_markers,
    main,
    render_catalog_table,
    replace_between_markers,
)
from tests.snippet_runner import fork_all

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
DOCS = ROOT / "docs"
EMULATOR_DOC = DOCS / "emulator.md"
MODELS_DOC = DOCS / "models.md"
#: every document whose ```python blocks must run against the emulator.
DOCUMENTS = [README, CONTRIBUTING, *sorted(DOCS.rglob("*.md"))]
#: the README is the PyPI page and the repository's front page: one screen, then the set-up commands and links.
README_MAX_BYTES = 12_000
COOKBOOK = ROOT / "cookbook"


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- the generated table


def test_model_table_is_generated_from_the_catalog() -> None:
    assert extract_between_markers(MODELS_DOC.read_text(encoding="utf-8")) == render_catalog_table().strip("\n"), (
        "docs/models.md's model table is out of date: run python scripts/catalog_table.py --write docs/models.md"
    )


def test_table_lists_every_catalog_model_once() -> None:
    table = render_catalog_table()
    for name in MODELS:
        assert table.count(f"| `{name}` |") == 1, name


def test_table_reflects_capabilities() -> None:
    rows = {line.split(" | ")[0].strip("| `"): line for line in render_catalog_table().splitlines()}
    assert "`json_schema`" in rows["gpt-4o-mini"]
    assert "`function_calling`" in rows["claude-3-5-sonnet-latest"]
    assert "emulated" in rows["o1-mini"] and "max_completion_tokens" in rows["o1-mini"]
    assert "3072 dimensions" in rows["text-embedding-3-large"]


def test_replace_between_markers_round_trips() -> None:
    doc = f"intro\n{START_MARKER}\nstale\n{END_MARKER}\noutro\n"
    new = replace_between_markers(doc, "fresh table\n")
    assert new == f"intro\n{START_MARKER}\nfresh table\n{END_MARKER}\noutro\n"
    assert extract_between_markers(new) == "fresh table"
    with pytest.raises(ValueError, match="markers"):
        replace_between_markers("no markers here", "x")


def test_cli_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "README.md"
    doc.write_text(f"# x\n{START_MARKER}\nold\n{END_MARKER}\n", encoding="utf-8")
    assert main(["--check", str(doc)]) == 1
    assert main(["--write", str(doc)]) == 0
    assert main(["--check", str(doc)]) == 0
    assert render_catalog_table().strip() in doc.read_text(encoding="utf-8")
    assert "matches the catalog" in capsys.readouterr().out


# ----------------------------------------------------------------------------- structure and references


def test_readme_is_one_screen_of_what_a_user_needs(readme: str) -> None:
    assert len(readme.encode("utf-8")) <= README_MAX_BYTES
    first_screen = "\n".join(readme.splitlines()[:45])
    assert 'pip install "b3n-integrations[langchain]"' in first_screen
    assert 'pip install "b3n-integrations[llama-index]"' in first_screen
    blocks = _python_blocks(first_screen)
    assert any("from langchain_b3n import" in b for b in blocks) and any("from llama_index_b3n import" in b for b in blocks)
    for internal in ("goal", "anchor", "met and missed", "quiet machine", "quiet 2-core"):
        assert internal not in readme.lower(), internal
    assert not re.search(r"\b\d+(\.\d+)? s\b.*\b(vs|against)\b", readme), "dated benchmark numbers belong in the results"


def test_two_setup_commands_stay(readme: str) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", _section(readme, "Two commands"), flags=re.DOTALL)
    assert len(blocks) == 2
    assert 'pip install -e ".[cookbook]"' in blocks[0] and "python cookbook/quickstart.py" in blocks[0]
    assert "offline" in _section(readme, "Two commands") and "B3N_API_KEY" in _section(readme, "Two commands")
    # CI runs exactly the README's test command
    test_command = re.search(r"pip install -e \"\.\[test\]\" && (python -m pytest[^\n]*)\n", blocks[1])
    assert test_command is not None, blocks[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install --quiet -e ".[test]"' in ci and f"\n{test_command.group(1)}\n" in ci


def test_readme_links_resolve(readme: str) -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if not t.startswith("http")]
    assert {"docs/index.md", "docs/emulator.md", "CONTRIBUTING.md", "cookbook/", "CHANGELOG.md", "SECURITY.md"} <= set(local)
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, missing


def _extras() -> dict[str, list[str]]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"": project["dependencies"], **project["optional-dependencies"]}


def _dist_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _installed_by(extra: str) -> set[str]:
    """Distribution names ``pip install -e .[extra]`` brings in directly (extras of our own resolved)."""
    extras, names, todo = _extras(), set(), ["", extra]
    while todo:
        for requirement in extras[todo.pop()]:
            own = re.fullmatch(r"b3n-integrations\[([\w,-]+)\]", requirement.replace(" ", ""))
            if own:
                todo.extend(own.group(1).split(","))
            else:
                names.add(_dist_name(requirement))
    return names


#: cookbook scripts that need a heavy extra of their own instead of `cookbook` (script -> extra).
OWN_EXTRA = {"ray_ingest.py": "ray"}


def test_scripts_with_their_own_extra_say_so(readme: str) -> None:
    for script, extra in OWN_EXTRA.items():
        assert f'pip install -e ".[{extra}]"' in (COOKBOOK / script).read_text(encoding="utf-8")
        row = next(line for line in readme.splitlines() if f"[`{script}`](cookbook/{script})" in line)
        assert f'pip install -e ".[{extra}]"' in row
        assert f"| `{extra}` |" in _doc("index.md")


def _cookbook_third_party_modules() -> set[str]:
    import ast

    own = {"b3n", "langchain_b3n", "llama_index_b3n", "_setup", "__future__"}
    modules = set()
    for path in COOKBOOK.glob("*.py"):
        if path.name in OWN_EXTRA:  # needs an extra of its own, which its first lines and the README name
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in own and m not in sys.stdlib_module_names}


def test_the_first_command_installs_what_every_cookbook_script_imports(readme: str) -> None:
    from importlib.metadata import packages_distributions

    first = re.findall(r"```bash\n(.*?)```", _section(readme, "Two commands"), flags=re.DOTALL)[0]
    extra = re.search(r'pip install -e "\.\[([\w-]+)\]"', first)
    assert extra is not None, first
    installed = _installed_by(extra.group(1))
    providers = packages_distributions()
    modules = _cookbook_third_party_modules()
    assert {"langchain", "llama_index", "langchain_core"} <= modules
    missing = [m for m in sorted(modules)
               if not {d.lower().replace("_", "-") for d in providers.get(m, [])} & installed]
    assert not missing, f"pip install -e .[{extra.group(1)}] does not install {missing} (imported by cookbook/)"


#: the docs pages every reader can count on (mkdocs.yml's nav lists them; a strict build fails on a broken link).
PAGES = ("index.md", "models.md", "configuration.md", "tokens-and-cost.md", "embeddings.md", "relays.md", "errors.md",
         "security.md", "cli.md", "emulator.md", "coming-from-openai.md", "native-routes.md", "changelog.md",
         "api/b3n.md", "api/langchain_b3n.md", "api/llama_index_b3n.md")


def test_docs_pages_exist_and_the_nav_lists_each_once() -> None:
    nav = re.findall(r":\s+(\S+\.md)$", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert sorted(nav) == sorted(PAGES) == sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    for name in PAGES:
        assert _doc(name).strip(), name


def test_contributing_and_emulator_doc_keep_their_sections() -> None:
    contributing = CONTRIBUTING.read_text(encoding="utf-8")
    for heading in ("Architecture", "Folder tree", "Development and live tests", "Where things moved"):
        assert f"\n## {heading}\n" in contributing, heading
    assert "B3N_API_KEY=sk-... python -m pytest tests/live -q" in contributing
    assert "inject(kind, route=" in EMULATOR_DOC.read_text(encoding="utf-8")


def test_api_reference_lists_every_public_name() -> None:
    import langchain_b3n
    import llama_index_b3n

    for package in (b3n, langchain_b3n, llama_index_b3n):
        page = _doc(f"api/{package.__name__}.md")
        own = [n for n in package.__all__ if n != "__version__"
               and (package is b3n or not getattr(package, n).__module__.startswith("b3n"))]
        # a class made on first use (B3nToolInputError) has no source to render: a section of its own names it
        missing = [n for n in own if f"::: {package.__name__}.{n}\n" not in page and f"### `{n}`\n" not in page]
        assert not missing, f"docs/api/{package.__name__}.md lacks {missing}"


def test_changelog_license_and_security_policy() -> None:
    import tomllib

    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in changelog and "\n## [Unreleased]\n" in changelog
    assert re.search(r"^## \[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}$", changelog, flags=re.MULTILINE)
    licence = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    assert licence == {"text": "MIT"} and (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    security = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert "(docs/security.md)" in security and "Report" in security


def test_every_cookbook_script_is_documented_and_exists(readme: str) -> None:
    scripts = {p.name for p in COOKBOOK.glob("*.py") if not p.name.startswith("_")}
    linked = set(re.findall(r"\(cookbook/([\w]+\.py)\)", readme))
    assert scripts == linked


def test_documented_env_vars_and_extras_exist() -> None:
    from b3n import _config as config

    configuration, index = _doc("configuration.md"), _doc("index.md")
    for var in ("B3N_API_KEY", "B3N_BASE_URL", "B3N_ACCESS_TOKEN", "B3N_USER_ID"):
        assert var in configuration and var in vars(config).values()
    for extra in _extras():
        if extra:
            assert f"| `{extra}` |" in index, f"docs/index.md's extras table lacks {extra}"


def test_documented_error_classes_exist() -> None:
    section = _doc("errors.md")
    names = set(re.findall(r"`(B3n\w+Error)`", section))
    assert len(names) >= 12
    for name in names:
        cls = getattr(b3n, name)
        assert issubclass(cls, core_errors.B3nError), name
        retried = getattr(cls, "retryable", False)
        row = next(line for line in section.splitlines() if line.startswith("| ") and f"`{name}`" in line.split(" | ")[0])
        assert row.rstrip(" |").endswith(("yes",) if retried else ("no", "never")), row


# ----------------------------------------------------------------------------- examples run offline
#
# Every ```python block of the README, CONTRIBUTING and the docs runs against a live emulator (B3N_* variables point at it), and
# the "test your own code" block runs as a real pytest suite. Each block runs in a process of its own.

def _snippets(text: str) -> list[str]:
    return [b for b in _python_blocks(text) if not b.startswith("# conftest.py")]


def _all_snippets() -> list[tuple[str, str]]:
    return [(f"{doc.relative_to(ROOT)}#{i}", block) for doc in DOCUMENTS
            for i, block in enumerate(_snippets(doc.read_text(encoding="utf-8")))]


SNIPPETS = _all_snippets()


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=90, check=False)


#: the first test using ``example_runs`` pays for running every snippet (seconds each, two at a time); on a loaded
#: 2-core machine that can exceed the suite's default 120 s per test.
SNIPPET_RUN_TIMEOUT = 600


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    """Each snippet's run, in a process of its own (forked by tests/snippet_runner.py, which imports the frameworks
    once instead of once per snippet), and the pytest run of the emulator page's fixture example."""
    from b3n.testing import Emulator

    with Emulator() as emu:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("B3N_")}
        clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        env = {**clean, "B3N_API_KEY": "sk-readme-test", "B3N_BASE_URL": emu.base_url,
               "B3N_ACCESS_TOKEN": emu.access_token, "B3N_USER_ID": str(emu.user_id)}
        jobs: dict[str, dict[str, Any]] = {}
        for i, (_, snippet) in enumerate(SNIPPETS):
            cwd = tmp_path_factory.mktemp(f"snippet{i}")
            (cwd / "snippet.py").write_text(snippet, encoding="utf-8")
            jobs[f"snippet{i}"] = {"script": str(cwd / "snippet.py"), "cwd": str(cwd), "output": str(cwd), "env": env}
        block = next(b for b in _python_blocks(EMULATOR_DOC.read_text(encoding="utf-8")) if b.startswith("# conftest.py"))
        conftest, _, tests = block.partition("# test_my_chain.py\n")
        cwd = tmp_path_factory.mktemp("fixture_example")
        (cwd / "conftest.py").write_text(conftest, encoding="utf-8")
        (cwd / "test_my_chain.py").write_text(tests, encoding="utf-8")
        with ThreadPoolExecutor(max_workers=1) as pool:
            fixture_example = pool.submit(_run, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                                 "test_my_chain.py"], clean, cwd)
            ran = fork_all(jobs, max(2, os.cpu_count() or 2), 90, tmp_path_factory.mktemp("snippets"))
            runs = {name: subprocess.CompletedProcess([sys.executable, "snippet.py"], *done) for name, done in ran.items()}
            yield {**runs, "fixture_example": fixture_example.result()}


def test_readme_and_docs_have_runnable_snippets() -> None:
    assert sum(name.startswith("README.md#") for name, _ in SNIPPETS) == 2   # LangChain and LlamaIndex
    assert sum(name.startswith("docs/") for name, _ in SNIPPETS) >= 20


@pytest.mark.timeout(SNIPPET_RUN_TIMEOUT)
@pytest.mark.parametrize("index", range(len(SNIPPETS)), ids=[name for name, _ in SNIPPETS])
def test_readme_snippet_runs_against_the_emulator(
    index: int, example_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    done = example_runs[f"snippet{index}"]
    name, snippet = SNIPPETS[index]
    assert done.returncode == 0, f"{name} failed:\n{snippet}\n--- stderr ---\n{done.stderr}"


@pytest.mark.timeout(SNIPPET_RUN_TIMEOUT)
def test_readme_emulator_fixture_example_passes(example_runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = example_runs["fixture_example"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b2 passed\b", done.stdout), done.stdout


# ----------------------------------------------------------------------------- the configuration table


def _configuration_arguments(page: str) -> set[str]:
    rows = [line for line in _section(page, "Settings").splitlines() if line.startswith("| `")]
    return set(re.findall(r"`(\w+)`", " ".join(row.split(" | ")[0] for row in rows)))


def test_configuration_table_lists_exactly_the_settings_of_both_bases() -> None:
    from langchain_b3n._base import SETTINGS_FIELDS as LANGCHAIN
    from llama_index_b3n._base import HTTP_CLIENT_ARGS
    from llama_index_b3n._base import SETTINGS_FIELDS as LLAMA_INDEX

    assert _configuration_arguments(_doc("configuration.md")) == LANGCHAIN | LLAMA_INDEX | set(HTTP_CLIENT_ARGS) | {
        "access_token", "user_id"}


def test_chat_options_table_lists_exactly_the_chat_options_of_both_bases() -> None:
    from langchain_b3n._base import CHAT_OPTION_FIELDS as LANGCHAIN
    from llama_index_b3n._base import CHAT_OPTION_FIELDS as LLAMA_INDEX
    from llama_index_b3n.llms import B3n

    table = _section(_doc("configuration.md"), "Chat request options")
    rows = {line.split(" | ")[0].strip("| `"): line.split(" | ") for line in table.splitlines()
            if line.startswith("| `")}
    assert set(rows) == LANGCHAIN | LLAMA_INDEX
    assert {name for name, cells in rows.items() if cells[1] == "field"} == LANGCHAIN
    assert {name for name, cells in rows.items() if cells[2] == "field"} == LLAMA_INDEX
    assert set(B3n.model_fields) >= LLAMA_INDEX


_SETTINGS = {"api_key": "sk-table", "timeout": 7.0, "stream_idle_timeout": 3.0, "max_retries": 1,
             "default_headers": {"X-Team": "a"}, "verify": False, "proxy": "http://127.0.0.1:3128"}


def _langchain_classes() -> list[Any]:
    import langchain_b3n as lc

    return [lc.ChatB3n, lc.B3nEmbeddings, lc.B3nImageGeneration, lc.B3nTextToSpeech, lc.B3nSpeechToText,
            lc.B3nWhisperParser, lambda **kw: lc.B3nAudioLoader("a.mp3", **kw).parser]


def _llama_index_classes() -> list[Any]:
    import llama_index_b3n as li

    return [li.B3n, li.B3nEmbedding, li.B3nToolSpec, li.B3nAudioReader]


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_every_class_takes_every_setting_in_the_table(framework: str) -> None:
    import httpx

    url_name = "base_url" if framework == "langchain" else "api_base"
    async_name = "http_async_client" if framework == "langchain" else "async_http_client"
    classes = _langchain_classes() if framework == "langchain" else _llama_index_classes()
    mine = httpx.Client()
    try:
        for make in classes:
            obj = make(**_SETTINGS, **{url_name: "http://127.0.0.1:9/v1", "http_client": mine,
                                       async_name: httpx.AsyncClient()})
            config = obj.client.config
            got = {"api_key": config.api_key.get_secret_value() if config.api_key else None,
                   "timeout": config.timeout, "stream_idle_timeout": config.stream_idle_timeout,
                   "max_retries": config.max_retries, "default_headers": dict(config.default_headers),
                   "verify": config.verify, "proxy": config.proxy}
            assert got == _SETTINGS, make
            assert config.base_url == "http://127.0.0.1:9/v1"
            assert obj.client.transport.client is mine, make
    finally:
        mine.close()
