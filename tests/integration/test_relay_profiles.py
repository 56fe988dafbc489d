"""The emulator's relay profiles serve Claude and Gemini the way each relay version's code does (wire level)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from b3n.testing import Emulator
from b3n.testing.relays import PROFILES, QUIRKS

TOOLS = [
    {"type": "function", "function": {"name": name, "description": f"The {name} tool.",
                                      "parameters": {"type": "object", "properties": {"input": {"type": "integer"}}}}}
    for name in ("magic_function", "other_function")
]
ASK_TWO = [{"role": "user", "content": "What is magic_function(3) and other_function(4)?"}]
CLAUDE = "claude-3-5-sonnet-latest"
GEMINI = "gemini-1.5-flash-latest"


def post(emu: Emulator, body: dict[str, Any]) -> tuple[int, Any]:
    r = httpx.post(emu.base_url + "/chat/completions", json=body, headers={"Authorization": "sk-test"}, timeout=10)
    if body.get("stream") and r.status_code == 200:
        return 200, [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    return r.status_code, r.json()


@pytest.fixture
def relay(relay_servers: dict[str, Emulator], request: pytest.FixtureRequest) -> Emulator:
    emu = relay_servers[request.param]
    emu.reset()
    emu.relay_quirks = set(PROFILES[request.param])
    return emu


def test_every_quirk_names_its_source() -> None:
    for quirk in QUIRKS.values():
        assert quirk.source.startswith(("songquanpeng/one-api@", "Calcium-Ion/new-api@")), quirk.name
        assert ".go" in quirk.source
    assert PROFILES["docs"] == frozenset()


@pytest.mark.parametrize("relay", ["one-api", "new-api-2412", "new-api"], indirect=True)
def test_claude_single_choice_with_text_and_all_calls(relay: Emulator) -> None:
    status, body = post(relay, {"model": CLAUDE, "tools": TOOLS, "messages": ASK_TWO})
    assert status == 200 and len(body["choices"]) == 1
    message = body["choices"][0]["message"]
    assert message["content"].startswith("I'll use") and len(message["tool_calls"]) == 2
    raw = relay.relay == "new-api-2412" or relay.relay == "new-api"
    assert body["choices"][0]["finish_reason"] == ("tool_use" if raw else "tool_calls")


def test_claude_schema_tool_not_forced_on_one_api(relay_servers: dict[str, Emulator]) -> None:
    joke = [{"type": "function", "function": {"name": "Joke", "description": "A joke.", "parameters": {
        "type": "object", "properties": {"setup": {"type": "string"}, "punchline": {"type": "string"}}}}}]
    body = {"model": CLAUDE, "tools": joke, "tool_choice": {"type": "function", "function": {"name": "Joke"}},
            "messages": [{"role": "user", "content": "Tell me a joke about cats"}]}
    _, docs = post(relay_servers["docs"], body)
    assert [c["function"]["name"] for c in docs["choices"][0]["message"]["tool_calls"]] == ["Joke"]
    _, one = post(relay_servers["one-api"], body)  # named choice kept: still a call
    assert one["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "Joke"
    _, new = post(relay_servers["new-api"], body)  # never forwarded: prose
    assert "tool_calls" not in new["choices"][0]["message"] and new["choices"][0]["message"]["content"]
    _, one_required = post(relay_servers["one-api"], {**body, "tool_choice": "required"})  # "required" -> auto
    assert "tool_calls" not in one_required["choices"][0]["message"]


def _tool_turn(content: Any, *, key: bool = True) -> list[dict[str, Any]]:
    call = {"id": "toolu_01abc", "type": "function", "function": {"name": "magic_function", "arguments": '{"input":3}'}}
    assistant: dict[str, Any] = {"role": "assistant", "tool_calls": [call]}
    if key:
        assistant["content"] = content
    return [ASK_TWO[0], assistant, {"role": "tool", "tool_call_id": "toolu_01abc", "content": "5"}]


@pytest.mark.parametrize(
    ("relay", "content", "key", "error"),
    [
        ("one-api", None, True, "unexpected `tool_use_id`"),
        ("one-api", "", True, "text content blocks must be non-empty"),
        ("new-api", None, True, "text content blocks must be non-empty"),
        ("new-api", "", True, "text content blocks must be non-empty"),
        ("new-api", None, False, None),
        ("one-api", "Calling magic_function.", True, None),
        ("docs", None, True, None),
    ],
    indirect=["relay"],
)
def test_claude_assistant_tool_turn_content(relay: Emulator, content: Any, key: bool, error: str | None) -> None:
    status, body = post(relay, {"model": CLAUDE, "tools": TOOLS, "messages": _tool_turn(content, key=key)})
    if error is None:
        assert status == 200, body
    else:
        assert status == 400 and error in body["error"]["message"]


@pytest.mark.parametrize(("relay", "ok"), [("one-api", False), ("new-api-2412", False), ("new-api", True),
                                           ("docs", True)], indirect=["relay"])
def test_gemini_tool_role(relay: Emulator, ok: bool) -> None:
    messages = _tool_turn(None)
    messages[1]["tool_calls"][0]["id"] = "call_1"
    messages[2]["tool_call_id"] = "call_1"
    status, body = post(relay, {"model": GEMINI, "tools": TOOLS, "messages": messages})
    if relay.relay == "docs":
        return  # docs: thought signatures are checked instead (tested elsewhere)
    assert (status == 200) is ok, body
    if not ok:
        assert status == 400 and "GenerateContentRequest.contents[" in body["error"]["message"]


@pytest.mark.parametrize(("relay", "calls", "finish", "model"),
                         [("one-api", 1, "stop", GEMINI), ("new-api-2412", 1, "stop", ""),
                          ("new-api", 2, "tool_calls", GEMINI)], indirect=["relay"])
def test_gemini_non_stream_calls(relay: Emulator, calls: int, finish: str, model: str) -> None:
    _, body = post(relay, {"model": GEMINI, "tools": TOOLS, "messages": ASK_TWO})
    assert len(body["choices"][0]["message"]["tool_calls"]) == calls
    assert body["choices"][0]["finish_reason"] == finish and body["model"] == model


@pytest.mark.parametrize(("relay", "calls", "model", "usage"),
                         [("one-api", 0, "gemini", False), ("new-api-2412", 1, "gemini", True),
                          ("new-api", 2, GEMINI, True)], indirect=["relay"])
def test_gemini_stream_calls(relay: Emulator, calls: int, model: str, usage: bool) -> None:
    body = {"model": GEMINI, "tools": TOOLS, "messages": ASK_TWO, "stream": True,
            "stream_options": {"include_usage": True}}
    _, chunks = post(relay, body)
    seen = [c for ch in chunks for choice in ch["choices"] for c in choice["delta"].get("tool_calls") or []]
    assert len(seen) == calls
    assert chunks[0]["model"] == model
    assert any(ch.get("usage") for ch in chunks) is usage


@pytest.mark.parametrize("relay", ["one-api"], indirect=True)
def test_one_api_claude_stream_empty_finish_no_usage(relay: Emulator) -> None:
    _, chunks = post(relay, {"model": CLAUDE, "messages": [{"role": "user", "content": "say 1"}], "stream": True,
                             "stream_options": {"include_usage": True}})
    finishes = [ch["choices"][0]["finish_reason"] for ch in chunks]
    assert finishes[:-1] == [""] * (len(finishes) - 1) and finishes[-1] == "stop"
    assert not any(ch.get("usage") for ch in chunks)


@pytest.mark.parametrize("relay", ["new-api"], indirect=True)
def test_new_api_claude_stream_block_index(relay: Emulator) -> None:
    _, chunks = post(relay, {"model": CLAUDE, "tools": TOOLS, "messages": ASK_TWO, "stream": True})
    frags = [ch["choices"][0]["index"] for ch in chunks
             if (ch["choices"][0]["delta"].get("tool_calls") or [{}])[0].get("id") is None
             and ch["choices"][0]["delta"].get("tool_calls")]
    assert set(frags) == {1, 2}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_use"


@pytest.mark.parametrize(("relay", "honoured"), [("one-api", True), ("new-api-2412", False), ("new-api", True)],
                         indirect=["relay"])
def test_gemini_response_format(relay: Emulator, honoured: bool) -> None:
    _, body = post(relay, {"model": GEMINI, "response_format": {"type": "json_object"},
                           "messages": [{"role": "user", "content": "Reply in JSON with keys 'city' and 'country'."}]})
    text = body["choices"][0]["message"]["content"]
    assert text.strip().startswith("{") is honoured


@pytest.mark.parametrize(("relay", "status", "etype", "code"),
                         [("one-api", 401, "one_api_error", None),
                          ("new-api", 403, "new_api_error", "pre_consume_token_quota_failed")], indirect=["relay"])
def test_token_exhausted_error(relay: Emulator, status: int, etype: str, code: str | None) -> None:
    relay.inject("token_exhausted")
    got, body = post(relay, {"model": CLAUDE, "messages": ASK_TWO})
    assert got == status and "该令牌额度已用尽" in body["error"]["message"]
    assert body["error"]["type"] == etype and body["error"]["code"] == code


@pytest.mark.parametrize("relay", ["new-api"], indirect=True)
def test_midstream_error_is_plain_json(relay: Emulator) -> None:
    relay.inject("midstream_error", after=2)
    r = httpx.post(relay.base_url + "/chat/completions", headers={"Authorization": "sk-test"},
                   json={"model": GEMINI, "stream": True, "messages": [{"role": "user", "content": "say a b c d e"}]})
    lines = [line for line in r.text.splitlines() if line]
    assert lines[0].startswith("data: ") and lines[-1].startswith('{"error": ')
    assert "request id:" in json.loads(lines[-1])["error"]["message"]
    assert "[DONE]" not in r.text


def test_docs_table_lists_every_quirk_with_its_profiles() -> None:
    table = (Path(__file__).resolve().parents[2] / "docs" / "emulator.md").read_text(encoding="utf-8")
    for name, quirk in QUIRKS.items():
        row = next((line for line in table.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"docs/emulator.md has no row for {name}"
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == quirk.family
        marks = [name in PROFILES[p] for p in ("one-api", "new-api-2412", "new-api")]
        assert [c == "✔" for c in cells[3:6]] == marks, name
