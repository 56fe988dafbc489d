"""The ``b3n`` command, run as a subprocess against the emulator."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from b3n.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "emu-access-token"


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B3N_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(values)
    return env


def b3n(*args: str, timeout: float = 30, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "b3n.cli", *args], capture_output=True, text=True, timeout=timeout,
        env=_env(**env), cwd=ROOT,
    )


def assert_clean_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_help_explains_configuration() -> None:
    proc = b3n("--help")
    assert proc.returncode == 0
    for text in ("emulator", "models", "whoami", "chat", "B3N_API_KEY", "B3N_BASE_URL", "B3N_ACCESS_TOKEN",
                 "B3N_USER_ID", "System token", "https://api.b3n.fun/v1"):
        assert text in proc.stdout, text
    chat_help = b3n("chat", "--help")
    assert chat_help.returncode == 0 and "--no-stream" in chat_help.stdout and "--system" in chat_help.stdout


def test_chat_streams_and_prints_usage(base_url: str, api_key: str, emulator: Emulator) -> None:
    proc = b3n("chat", "gpt-4o-mini", "say hello", "--system", "be brief", B3N_BASE_URL=base_url, B3N_API_KEY=api_key)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello\n"
    assert re.search(r"\[gpt-4o-mini[^\]]*\] tokens: \d+ prompt \+ \d+ completion = \d+", proc.stderr)
    sent = emulator.last_request("chat")
    assert sent is not None and sent.json["stream"] is True
    assert sent.json["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "say hello"}]


def test_chat_no_stream_with_api_key_option(base_url: str, api_key: str, emulator: Emulator) -> None:
    proc = b3n("chat", "claude-3-5-sonnet-latest", "What is 6 * 7?", "--no-stream", "--base-url", base_url,
               "--api-key", api_key)
    assert proc.returncode == 0, proc.stderr
    assert "42" in proc.stdout and "tokens:" in proc.stderr
    sent = emulator.last_request("chat")
    assert sent is not None and "stream" not in sent.json
    assert sent.headers["authorization"] == f"Bearer {api_key}"


def test_models(base_url: str, api_key: str) -> None:
    proc = b3n("models", B3N_BASE_URL=base_url, B3N_API_KEY=api_key)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "KIND", "OWNED", "BY", "CAPABILITIES", "ROUTES", "FROM"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert rows["gpt-4o-mini"] == "chat" and rows["whisper-1"] == "stt" and rows["dall-e-3"] == "image"
    o3 = next(line.split() for line in lines if line.startswith("o3 "))
    assert o3[3] == "tools,vision,json_schema,json_mode,stream,reasoning" and o3[4:6] == ["openai", "catalog"]


def test_whoami(base_url: str, emulator: Emulator) -> None:
    proc = b3n("whoami", B3N_BASE_URL=base_url, B3N_ACCESS_TOKEN=TOKEN, B3N_USER_ID="1")
    assert proc.returncode == 0, proc.stderr
    assert "B3n Emulator (@emulator, id 1)" in proc.stdout
    assert re.search(r"balance:\s+\$10\.0000", proc.stdout)
    assert TOKEN not in proc.stdout


def test_emulator_command_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "b3n.cli", "emulator", "--port", "0", "--no-quirks"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        base = match.group(1)
        assert "quirks off" in line
        exports = dict(
            pair.split("=", 1) for _ in range(3) for pair in proc.stdout.readline().split()[1:] if "=" in pair
        )
        assert exports["B3N_BASE_URL"] == base and exports["B3N_USER_ID"] == "1", exports
        # the printed lines are all a shell needs: balance (account token) and models (sk- key) work with them
        balance = b3n("balance", **exports)
        assert balance.returncode == 0 and balance.stdout.startswith("$10.0000"), balance.stdout + balance.stderr
        models = httpx.get(f"{base}/models", headers={"Authorization": "Bearer sk-x"}, timeout=10).json()
        assert any(m["id"] == "gpt-4o-mini" for m in models["data"])
        # the emulator is a real relay for the other commands too
        chat = b3n("chat", "gemini-1.5-flash-latest", "say 1", B3N_BASE_URL=base, B3N_API_KEY="sk-x")
        assert chat.returncode == 0 and chat.stdout == "1\n"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


# ----------------------------------------------------------------------------- in process (same code path, faster)


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.returncode, self.stdout, self.stderr = code, out, err


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    from b3n.cli import main

    def _run(*argv: str, **env: str) -> Run:
        for key in ("B3N_API_KEY", "B3N_BASE_URL", "B3N_ACCESS_TOKEN", "B3N_USER_ID"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return _run


def test_chat_without_key_is_one_clear_line(run: Callable[..., Run], base_url: str, emulator: Emulator) -> None:
    assert_clean_error(run("chat", "gpt-4o-mini", "hi", B3N_BASE_URL=base_url), "No B3n API key", "B3N_API_KEY")
    assert_clean_error(run("models", "--base-url", base_url), "No B3n API key")
    assert emulator.total_requests == 0


def test_chat_relay_error_is_one_clear_line(run: Callable[..., Run], base_url: str, api_key: str) -> None:
    proc = run("chat", "unknown-model-x", "hi", B3N_BASE_URL=base_url, B3N_API_KEY=api_key)
    assert_clean_error(proc, "unknown-model-x", "b3n models")
    assert api_key not in proc.stderr


def test_whoami_without_token_names_the_credential(
    run: Callable[..., Run], base_url: str, api_key: str, emulator: Emulator
) -> None:
    proc = run("whoami", B3N_BASE_URL=base_url, B3N_API_KEY=api_key)
    assert_clean_error(proc, "system access token", "B3N_ACCESS_TOKEN", "System token", "B3N_USER_ID")
    assert emulator.total_requests == 0


def test_whoami_wrong_token_names_the_credential(run: Callable[..., Run], base_url: str, emulator: Emulator) -> None:
    proc = run("whoami", B3N_BASE_URL=base_url, B3N_ACCESS_TOKEN="wrong-token", B3N_USER_ID="1")
    assert_clean_error(proc, "401", "B3N_ACCESS_TOKEN", "System token")
    assert "wrong-token" not in proc.stderr
    assert emulator.count("account") == 1


def test_json_outputs(run: Callable[..., Run], base_url: str, api_key: str) -> None:
    models = json.loads(run("models", "--json", B3N_BASE_URL=base_url, B3N_API_KEY=api_key).stdout)
    assert {"id": "tts-1", "owned_by": next(m["owned_by"] for m in models if m["id"] == "tts-1"),
            "kind": "tts", "capabilities": ["tts"], "capabilities_from": "catalog"} in models
    me = json.loads(run("whoami", "--json", "--base-url", base_url, "--access-token", TOKEN, "--user-id", "1").stdout)
    assert me["balance_usd"] == 10.0 and "access_token" not in me and "details" not in me


def test_emulator_port_in_use(run: Callable[..., Run], emulator: Emulator) -> None:
    proc = run("emulator", "--port", str(emulator.port))
    assert_clean_error(proc, f"cannot listen on port {emulator.port}", "--port")


@pytest.mark.parametrize("argv", [["nonsense"], [], ["chat", "gpt-4o"]])
def test_usage_errors(run: Callable[..., Run], argv: list[str]) -> None:
    proc = run(*argv)
    assert proc.returncode == 2 and "usage: b3n" in proc.stderr


def test_chat_no_stream_in_process(run: Callable[..., Run], base_url: str, api_key: str) -> None:
    proc = run("chat", "gpt-4o", "say 1", "--base-url", base_url, "--api-key", api_key, "--no-stream")
    assert proc.returncode == 0 and proc.stdout == "1\n" and "tokens:" in proc.stderr


def test_backgrounded_emulator_stops_with_kill() -> None:
    """docs/cli.md: start it with ``&`` and ``--port 0``, read the URL from its first line, stop it with ``kill``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "b3n.cli", "emulator", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
    )
    assert proc.stdout is not None
    match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", proc.stdout.readline())
    assert match
    assert httpx.get(f"{match.group(1)}/models", headers={"Authorization": "Bearer sk-x"}, timeout=10).is_success
    proc.terminate()  # what `kill PID` sends
    assert proc.wait(timeout=10) != 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{match.group(1)}/models", timeout=5)


def test_emulator_help_documents_port_zero_and_the_exports(run: Callable[..., Run],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    proc = run("emulator", "--help")
    assert proc.returncode == 0
    assert "0: any free port" in proc.stdout and "export" in proc.stdout and "kill" in proc.stdout


def test_errors_name_the_options_not_python_arguments(
    run: Callable[..., Run], base_url: str, api_key: str, emulator: Emulator
) -> None:
    no_key = run("models", "--base-url", base_url)
    assert_clean_error(no_key, "--api-key", "B3N_API_KEY")
    assert "api_key=" not in no_key.stderr
    no_token = run("balance", "--base-url", base_url)
    assert_clean_error(no_token, "--access-token", "B3N_ACCESS_TOKEN", "--user-id", "B3N_USER_ID")
    assert "access_token=" not in no_token.stderr and "user_id=" not in no_token.stderr
    bad_url = run("models", "--base-url", "ftp://relay.invalid/v1", "--api-key", api_key)
    assert_clean_error(bad_url, "--base-url", "B3N_BASE_URL")
    bad_timeout = run("models", "--timeout", "-1", "--base-url", base_url, "--api-key", api_key)
    assert_clean_error(bad_timeout, "--timeout must be a finite number of seconds > 0")
    assert emulator.total_requests == 0


def test_balance(run: Callable[..., Run], base_url: str, emulator: Emulator) -> None:
    proc = run("balance", "--base-url", base_url, "--access-token", TOKEN, "--user-id", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "$10.0000  (5,000,000 quota units)\n"
    as_json = json.loads(run("balance", "--json", B3N_BASE_URL=base_url, B3N_ACCESS_TOKEN=TOKEN,
                             B3N_USER_ID="1").stdout)
    assert as_json == {"balance_usd": 10.0, "quota": 5_000_000}
    assert emulator.count("account") == 2
    wrong = run("balance", "--base-url", base_url, "--access-token", "wrong-token", "--user-id", "1")
    assert_clean_error(wrong, "401", "B3N_ACCESS_TOKEN")
    assert "wrong-token" not in wrong.stderr
