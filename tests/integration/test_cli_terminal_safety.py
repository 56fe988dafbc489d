"""The ``b3n`` command prints what a relay sends, never obeys it (issue 14, item 10).

A hostile or broken relay puts terminal escape sequences (window title, clear screen, colours, fake
prompts), C1 controls and bidi overrides into model ids, user names, chat answers, model names and error
messages. The command runs as a subprocess against a small server of the test's own, and its stdout
and stderr must hold the visible text and none of the control characters.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hostile import serving

ROOT = Path(__file__).resolve().parents[2]
EVIL = "\x1b]0;pwned\x07\x1b[2J\x1b[31m\x9b7m\u202e\r"
CONTROL = ("\x1b", "\x07", "\x9b", "\u202e", "\r")


class _HostileRelay(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.endswith("/v1/models"):
            self._json(200, {"object": "list", "data": [
                {"id": f"gpt-4o{EVIL}-evil", "object": "model", "owned_by": f"own{EVIL}er"}]})
        elif self.path.endswith("/api/user/self"):
            self._json(200, {"success": True, "message": "", "data": {
                "id": 1, "username": f"ann{EVIL}ie", "display_name": f"Ann{EVIL} Admin", "group": f"vip{EVIL}",
                "quota": 500000, "used_quota": 0, "request_count": 3}})
        else:
            self._json(404, {"error": {"message": "no"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if body.get("model") == "broken":
            self._json(400, {"error": {"message": f"bad{EVIL} request", "type": "invalid_request_error"}})
            return
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ("Hel", f"lo{EVIL}", " world\n"):
                chunk = {"id": "c", "object": "chat.completion.chunk", "model": f"m{EVIL}x",
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            end = {"id": "c", "object": "chat.completion.chunk", "model": f"m{EVIL}x",
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
            return
        self._json(200, {"id": "c", "object": "chat.completion", "model": "m", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"Hi{EVIL} there"}, "finish_reason": "stop"}]})


@pytest.fixture(scope="module")
def relay() -> Iterator[str]:
    with serving(_HostileRelay) as url:
        yield url + "/v1"


def _b3n(relay: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B3N_")}
    env.update({"B3N_API_KEY": "sk-test", "B3N_BASE_URL": relay, "B3N_ACCESS_TOKEN": "tok", "B3N_USER_ID": "1",
                "PYTHONIOENCODING": "utf-8"})
    return subprocess.run([sys.executable, "-m", "b3n.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=60, check=False)


def _assert_inert(done: subprocess.CompletedProcess[str]) -> str:
    text = done.stdout + done.stderr
    found = [repr(c) for c in CONTROL if c in text]
    assert not found, f"control characters {found} reached the terminal:\n{text!r}"
    assert "]0;pwned" not in text and "[2J" not in text
    return text


@pytest.mark.parametrize(
    ("args", "visible"),
    [
        (["models"], ["gpt-4o-evil", "owner"]),
        (["whoami"], ["Ann Admin", "@annie", "vip"]),
        (["chat", "gpt-4o-mini", "hi"], ["Hello world", "[mx] tokens: 1 prompt"]),
        (["chat", "gpt-4o-mini", "hi", "--no-stream"], ["Hi there"]),
        (["chat", "broken", "hi", "--no-stream"], ["bad request"]),
    ],
)
def test_relay_strings_are_printed_without_their_control_characters(
    relay: str, args: list[str], visible: list[str]
) -> None:
    text = _assert_inert(_b3n(relay, *args))
    for piece in visible:
        assert piece in text, text
