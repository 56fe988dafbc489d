"""Every cookbook script runs offline (no B3N_* variables) against the bundled emulator and says sensible things.

Each script runs in a process of its own from the repository root, as a newcomer runs it (``python cookbook/x.py``):
forked by tests/snippet_runner.py after one import of the frameworks, two or more at a time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.snippet_runner import fork_all

ROOT = Path(__file__).resolve().parents[2]
COOKBOOK = ROOT / "cookbook"
SCRIPTS = sorted(p.name for p in COOKBOOK.glob("*.py") if not p.name.startswith("_"))
#: run by a test module of their own (heavy start-up), not in the parallel pool below.
SEPARATE = ("ray_ingest.py",)
POOLED = [name for name in SCRIPTS if name not in SEPARATE]
OFFLINE_LINE = re.compile(
    r"^No B3N_API_KEY set: running offline against the bundled B3n emulator at http://127\.0\.0\.1:\d+/v1$",
    re.MULTILINE,
)
TIMEOUT = 120.0
#: the first test using ``runs`` pays for every script (run two at a time); under load that exceeds the suite's
#: default 120 s per test, so the module allows more.
pytestmark = pytest.mark.timeout(600)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


#: scripts with a branch for the real B3n, also run "live" against an emulator posing as the relay.
LIVE_SIMULATED = ("account.py", "vision.py")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """Offline runs keyed by script name, and simulated live runs keyed ``live:<name>``: each script in a process of
    its own, forked by tests/snippet_runner.py (which imports the frameworks once instead of once per script)."""
    from b3n.testing import Emulator

    offline = {k: v for k, v in os.environ.items() if not k.startswith("B3N_")}
    offline["PYTHONUNBUFFERED"] = "1"
    with Emulator() as relay:
        live_env = {**offline, "B3N_API_KEY": "sk-live-simulation", "B3N_BASE_URL": relay.base_url}
        runs = [(name, name, offline) for name in POOLED] + [(f"live:{name}", name, live_env) for name in LIVE_SIMULATED]
        jobs = {key: {"script": str(COOKBOOK / name), "cwd": str(ROOT), "env": env,
                      "output": str(tmp_path_factory.mktemp(key.replace(":", "-").removesuffix(".py")))}
                for key, name, env in runs}
        ran = fork_all(jobs, max(2, os.cpu_count() or 2), TIMEOUT, tmp_path_factory.mktemp("cookbook"))
        yield {key: Run(*done) for key, done in ran.items()}


def _ok(runs: dict[str, Run], name: str) -> str:
    run = runs[name]
    assert run.returncode == 0, f"{name} exited {run.returncode}\n--- stdout ---\n{run.stdout}\n--- stderr ---\n{run.stderr}"
    return run.stdout


def test_the_cookbook_has_every_planned_script() -> None:
    assert set(SCRIPTS) == {
        "quickstart.py", "langchain_rag.py", "langchain_agent.py", "structured_output.py", "vision.py",
        "llamaindex_rag.py", "llamaindex_agent.py", "media.py", "account.py", "ray_ingest.py",
    }


@pytest.mark.parametrize("name", POOLED)
def test_script_runs_offline_cleanly(runs: dict[str, Run], name: str) -> None:
    out = _ok(runs, name)
    assert len(OFFLINE_LINE.findall(out)) == 1, out[:500]
    assert out.startswith("No B3N_API_KEY set"), "the offline notice must be the first thing printed"
    stderr = runs[name].stderr
    assert "Traceback" not in stderr and "Warning" not in stderr, stderr
    assert "sk-cookbook" not in out + stderr, "the API key leaked into the output"


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_is_a_py_percent_notebook(name: str) -> None:
    text = (COOKBOOK / name).read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]\n# # "), "starts with a markdown title cell"
    assert text.count("\n# %%\n") >= 2, "has code cells"
    assert "from _setup import connect" in text


@pytest.mark.parametrize("name", LIVE_SIMULATED)
def test_script_takes_the_live_branch_with_a_key(runs: dict[str, Run], name: str) -> None:
    """With B3N_API_KEY set the script uses B3N_BASE_URL (here an emulator posing as B3n) and says so."""
    out = _ok(runs, f"live:{name}")
    assert re.match(r"B3N_API_KEY is set: talking to the real B3n at http://127\.0\.0\.1:\d+/v1\n", out), out[:300]
    assert "running offline" not in out and "sk-live-simulation" not in out + runs[f"live:{name}"].stderr


def test_live_account_without_system_token_explains_what_to_set(runs: dict[str, Run]) -> None:
    out = _ok(runs, "live:account.py")
    assert "skipped: set B3N_ACCESS_TOKEN (your system access token) and B3N_USER_ID" in out
    assert re.search(r"^ +chat: .*gpt-4o-mini", out, re.MULTILINE)


def test_quickstart(runs: dict[str, Run]) -> None:
    out = _ok(runs, "quickstart.py")
    for model in ("gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "o1-mini"):
        for verb in ("invoke", "stream", "chat", "stream_chat"):
            line = re.search(rf"^\[{re.escape(model)}\] {verb}: (.*)$", out, re.MULTILINE)
            assert line is not None, f"{model} {verb} missing"
            assert "84" in line.group(1) and re.search(r"tokens: \d+ in, \d+ out", line.group(1)), line.group(0)
    assert re.search(r"^\[o1-mini\] invoke: .*\d+ of them reasoning", out, re.MULTILINE)
    assert re.search(r"^\[o1-mini\] stream_chat: .*\d+ of them reasoning", out, re.MULTILINE)
    assert "=== LangChain ChatB3n ===" in out and "=== LlamaIndex B3n ===" in out


def test_langchain_rag(runs: dict[str, Run]) -> None:
    out = _ok(runs, "langchain_rag.py")
    assert re.search(r"^retrieved billing\.md:", out, re.MULTILINE), "the billing doc should be retrieved first"
    assert re.search(r"^answer: .*500000 quota units equal one US dollar", out, re.MULTILINE)
    assert re.search(r"^sources:  billing\.md", out, re.MULTILINE)
    assert re.search(r"^answer: .*OpenAI, Claude and Gemini", out, re.MULTILINE), "the streamed Claude answer"
    assert re.search(r"^sources:  overview\.md", out, re.MULTILINE)


def test_langchain_agent(runs: dict[str, Run]) -> None:
    out = _ok(runs, "langchain_agent.py")
    assert "calls multiply({'a': 12, 'b': 7}), get_word_length({'word': 'langchain'})" in out
    assert re.search(r"^\[gpt-4o-mini\] final answer: .*\b84\b.*\b9\b", out, re.MULTILINE)
    assert re.search(r"b3n_image_generation returned http://127\.0\.0\.1:\d+/files/img-\w+-\w+\.png", out)
    assert re.search(r"^\[gpt-4o-mini\] final answer: .*http://127\.0\.0\.1:\d+/files/img-", out, re.MULTILINE)
    for model in ("claude-3-5-sonnet-latest", "gemini-1.5-pro-latest"):
        assert f"[{model}]   <- multiply returned 84" in out
        assert re.search(rf"^\[{re.escape(model)}\] final answer: .*\b84\b", out, re.MULTILINE)
    assert "(and says \"I'll use the multiply tool" in out, "Claude's text beside its tool call is kept (merged choices)"


def test_structured_output(runs: dict[str, Run]) -> None:
    out = _ok(runs, "structured_output.py")
    parsed = "Movie(title='Inception', year=2010, director='Christopher Nolan')"
    assert out.count(parsed) >= 10, out
    for method in ("function_calling", "json_schema", "json_mode"):
        assert f"=== method='{method}'" in out
    assert "parsing_error: None" in out
    assert "[gpt-4o-mini] default method json_schema: " + parsed in out
    assert "[claude-3-5-sonnet-latest] default method function_calling: " + parsed in out
    assert "[gemini-1.5-pro-latest] default method function_calling: " + parsed in out
    assert re.search(r"^warning: .*does not honour method='json_schema'.*using 'function_calling'", out, re.MULTILINE)
    assert "=== LlamaIndex structured_predict" in out and "=== LlamaIndex as_structured_llm" in out


def test_vision(runs: dict[str, Run]) -> None:
    out = _ok(runs, "vision.py")
    assert len(re.findall(r"^I see 1 image \(https://upload\.wikimedia\.org/", out, re.MULTILINE)) == 2
    assert len(re.findall(r"^I see 1 image \(image/png, \d+ bytes\)", out, re.MULTILINE)) == 2
    assert "InvalidRequestError: Model 'gpt-3.5-turbo' does not take image inputs" in out
    assert "chat requests sent for it: 0" in out
    assert "LlamaIndex too: B3nInvalidRequestError" in out


def test_llamaindex_rag(runs: dict[str, Run]) -> None:
    out = _ok(runs, "llamaindex_rag.py")
    assert re.search(r"^answer: +The Eiffel Tower in Paris is 330 metres tall", out, re.MULTILINE)
    first_source = re.search(r"^source: +(\S+) \(score [\d.]+\)", out, re.MULTILINE)
    assert first_source is not None and first_source.group(1) == "eiffel.txt"
    assert re.search(r"^answer: +Mount Everest rises 8849 metres", out, re.MULTILINE)
    assert re.search(r"^source: +everest\.txt$", out, re.MULTILINE)
    assert re.search(r"^answer: +The Great Wall of China stretches for about 21196 kilometres", out, re.MULTILINE)


def test_llamaindex_agent(runs: dict[str, Run]) -> None:
    out = _ok(runs, "llamaindex_agent.py")
    assert "tools: multiply, add, generate_image, text_to_speech, transcribe_audio" in out
    assert "[gpt-4o-mini]   -> calls multiply({'a': 12, 'b': 7})" in out
    assert "[gpt-4o-mini]   <- multiply returned 84" in out
    assert re.search(r"^\[gpt-4o-mini\] streams: .*\b84\b", out, re.MULTILINE), "answer tokens are streamed"
    assert re.search(r"^\[gpt-4o-mini\] final answer: .*\b84\b", out, re.MULTILINE)
    assert re.search(r"generate_image returned http://127\.0\.0\.1:\d+/files/img-\w+-\w+\.png", out)
    for model in ("claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"):
        assert f"[{model}]   <- add returned 42" in out
        assert re.search(rf"^\[{re.escape(model)}\] final answer: .*\b42\b", out, re.MULTILINE)


def test_media(runs: dict[str, Run]) -> None:
    out = _ok(runs, "media.py")
    assert re.search(r"^saved \d+ bytes to lighthouse\.png \(a PNG: True\)", out, re.MULTILINE)
    assert "transcript: The quick brown fox jumps over the lazy dog." in out
    assert "round trip exact: True" in out
    assert "B3nInvalidRequestError: size='512x512' is not supported" in out
    assert "B3nInvalidRequestError: voice='robot' is not supported" in out
    assert "heard: 'Tools can talk too.'" in out


def test_account(runs: dict[str, Run]) -> None:
    out = _ok(runs, "account.py")
    assert re.search(r"^balance: +\$\d+\.\d\d \([\d,]+ quota units\)", out, re.MULTILINE)
    assert "secrets in the result: False" in out
    assert "B3nConfigurationError: The account endpoint (/api/user/self) needs your B3n *system access token*" in out
    assert "B3nAuthenticationError: B3n refused the account request with HTTP 401" in out
    chat_line = re.search(r"^ +chat: (.*)$", out, re.MULTILINE)
    assert chat_line is not None and "gpt-4o-mini" in chat_line.group(1) and "claude-3-5-sonnet-latest" in chat_line.group(1)
    assert re.search(r"^ +embedding: .*text-embedding-3-small", out, re.MULTILINE)



_HIDE_AND_RUN = """
import runpy, sys
for name in sys.argv[2:]:
    sys.modules[name] = None          # as if the package were not installed: importing it raises ModuleNotFoundError
script = sys.argv[1]
sys.argv = [script]
sys.path.insert(0, {cookbook!r})
runpy.run_path(script, run_name="__main__")
"""


@pytest.mark.parametrize(
    ("script", "hidden", "extra"),
    [
        ("langchain_agent.py", ["langchain", "langgraph"], "cookbook"),
        ("llamaindex_rag.py", ["llama_index"], "llama-index"),
    ],
)
def test_a_missing_optional_dependency_names_the_extra_instead_of_a_traceback(
    script: str, hidden: list[str], extra: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B3N_")}
    done = subprocess.run(
        [sys.executable, "-c", _HIDE_AND_RUN.format(cookbook=str(COOKBOOK)), str(COOKBOOK / script), *hidden],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert f"{script} needs the '{hidden[0]}' package (the '{extra}' extra)" in done.stderr, done.stderr
    assert 'pip install -e ".[cookbook]"' in done.stderr
