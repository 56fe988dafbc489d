"""The emulator warns when it listens beyond loopback, and its chunked-body reader checks sizes first.

Issue 14, item 10. Both command lines (``python -m b3n.testing`` and ``b3n emulator``) are run as
subprocesses; the chunked bodies are sent over a raw socket, as a hostile client would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from b3n.testing import Emulator
from b3n.testing.exposure import EmulatorExposedWarning

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {
    "python -m b3n.testing": [sys.executable, "-m", "b3n.testing"],
    "b3n emulator": [sys.executable, "-m", "b3n.cli", "emulator"],
}


def _serve_and_stop(command: list[str], host: str) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B3N_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen([*command, "--host", host, "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    return banner, err


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_line_warns_when_bound_beyond_loopback(name: str) -> None:
    banner, err = _serve_and_stop(COMMANDS[name], "0.0.0.0")
    assert "listening on http://127.0.0.1:" in banner, (banner, err)
    assert "Warning: The B3n emulator is listening on 0.0.0.0" in err
    assert "--host 127.0.0.1" in err and err.count("listening on 0.0.0.0") == 1 and "Traceback" not in err
    banner, err = _serve_and_stop(COMMANDS[name], "127.0.0.1")
    assert "listening on http://127.0.0.1:" in banner and "Warning" not in err, err


def test_emulator_object_warns_beyond_loopback_only() -> None:
    with pytest.warns(EmulatorExposedWarning, match="listening on 0.0.0.0"), Emulator(host="0.0.0.0"):
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmulatorExposedWarning)
        with Emulator(host="127.0.0.1"), Emulator(host="localhost"):
            pass


def _chunked_post(emulator: Emulator, body_lines: list[bytes], timeout: float = 5.0) -> bytes:
    """POST a chunked body (only ``body_lines``, then wait for the answer without closing our side)."""
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=timeout) as sock:
        head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-x\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.sendall(head + b"".join(body_lines))
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b"(no answer: the emulator is still reading the body)"


@pytest.mark.parametrize("size_line", [b"5000000\r\n", b"-5\r\n", b"FFFFFFFFFFFFFFFF\r\n"],
                         ids=["80MB", "negative", "2**64"])
def test_chunked_reader_refuses_an_oversized_chunk_before_reading_it(emulator: Emulator, size_line: bytes) -> None:
    answer = _chunked_post(emulator, [size_line, b"{}"])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert emulator.server_errors == []


def test_chunked_reader_still_reads_a_normal_body(emulator: Emulator) -> None:
    body = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say: chunked ok"}]}'
    half = len(body) // 2
    pieces = [b"%x\r\n%s\r\n" % (half, body[:half]), b"%x\r\n%s\r\n" % (len(body) - half, body[half:]), b"0\r\n\r\n"]
    answer = _chunked_post(emulator, pieces)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert emulator.count("chat") == 1
