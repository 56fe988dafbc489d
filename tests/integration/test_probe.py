"""``b3n probe`` reports exactly each relay profile's behaviours, caches them, and the clients adapt up front."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent

from b3n import B3nClient
from b3n._chat import relay
from b3n._probe import BEHAVIOURS, probe
from b3n.cli import main
from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from llama_index_b3n import B3n
from tests.langchain_tools import TASK, Joke, get_weather, magic_function


def _chat(emu: Emulator) -> list[Any]:
    """The chat requests the emulator received (other routes, e.g. the price list, left out)."""
    return [r for r in emu.requests if r.route.endswith("/chat/completions")]

ALL = dict.fromkeys((b for b in BEHAVIOURS if not b.startswith("native_")), True)
EXPECTED: dict[str, dict[str, dict[str, bool]]] = {
    "docs": {
        "openai": ALL,
        "claude": {**ALL, "response_format": False},
        "gemini": {**ALL, "response_format": False, "model_name": False},
    },
    "one-api": {
        "openai": ALL,
        "claude": {**ALL, "stream_usage": False, "tool_result_turns": False, "response_format": False},
        "gemini": {**ALL, "tool_choice": False, "parallel_calls": False, "stream_tool_calls": False,
                   "stream_usage": False, "tool_result_turns": False, "model_name": False},
    },
    "new-api-2412": {
        "openai": ALL,
        "claude": {**ALL, "tool_choice": False, "tool_result_turns": False, "response_format": False},
        "gemini": {**ALL, "tool_choice": False, "parallel_calls": False, "tool_result_turns": False,
                   "response_format": False, "model_name": False},
    },
    "new-api": {
        "openai": ALL,
        "claude": {**ALL, "tool_choice": False, "tool_result_turns": False, "response_format": False},
        "gemini": {**ALL, "tool_choice": False},
    },
}


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3N_CACHE_DIR", str(tmp_path))  # the probe cache of this test only
    relay.MEMORY.forget()


@pytest.mark.parametrize("profile", list(EXPECTED))
def test_probe_reports_exactly_the_profile(relay_servers: dict[str, Emulator], api_key: str, profile: str) -> None:
    emu = relay_servers[profile]
    emu.reset()
    report = probe(B3nClient(api_key=api_key, base_url=emu.base_url))
    native = {"claude": {"native_messages": profile == "new-api"}, "gemini": {"native_generate_content": False}}
    assert report.families == {fam: {**found, **native.get(fam, {})} for fam, found in EXPECTED[profile].items()}
    assert emu.count("chat") == 18  # 6 bounded calls per family
    assert emu.count("messages") == 1 and report.requests == 20  # + one native call each for Claude and Gemini
    assert all(r.json.get("max_tokens") == 64 for r in _chat(emu))
    assert report.prompt_tokens > 0 and report.usd > 0


def test_cli_probe_json_and_cache(relay_servers: dict[str, Emulator], api_key: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    emu = relay_servers["new-api-2412"]
    code = main(["probe", "--base-url", emu.base_url, "--api-key", api_key, "--model", "gemini-1.5-flash-latest",
                 "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["families"] == {"gemini": {**EXPECTED["new-api-2412"]["gemini"], "native_generate_content": False}}
    assert out["cost"]["requests"] == 7
    cached = json.loads((tmp_path / "relay-probe.json").read_text())
    assert cached[emu.base_url]["families"]["gemini"]["tool_result_turns"] is False
    assert main(["probe", "--base-url", emu.base_url, "--api-key", api_key, "--model", "claude-3-5-sonnet-latest"]) == 0
    table = capsys.readouterr().out
    assert "tool_choice" in table and "NO" in table and "cached in" in table


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_chatb3n_reading_the_cache_sends_no_failing_request(
    relay_servers: dict[str, Emulator], api_key: str, stream: bool
) -> None:
    emu = relay_servers["one-api"]
    probe(B3nClient(api_key=api_key, base_url=emu.base_url), ["gemini-1.5-flash-latest"])
    relay.MEMORY.forget()
    emu.reset()
    agent = create_agent(ChatB3n(model="gemini-1.5-flash-latest", api_key=api_key, base_url=emu.base_url),
                         [magic_function, get_weather])
    if stream:
        list(agent.stream({"messages": [("user", TASK)]}, stream_mode="messages"))
    else:
        final = agent.invoke({"messages": [("user", TASK)]})["messages"][-1]
        assert "5" in final.text and "sunny" in final.text
    assert [r.status for r in _chat(emu)] == [200, 200, 200]  # one call per step, nothing refused
    assert not any(r.json.get("stream") for r in _chat(emu))  # streams known to drop calls: never tried
    assert all(m["role"] != "tool" for r in _chat(emu) for m in r.json["messages"])  # text tool turns from the start


def test_structured_output_goes_straight_to_json_when_probe_found_tool_choice_ignored(
    relay_servers: dict[str, Emulator], api_key: str
) -> None:
    emu = relay_servers["new-api"]
    probe(B3nClient(api_key=api_key, base_url=emu.base_url), ["claude-3-5-sonnet-latest"])
    emu.reset()
    joke = ChatB3n(model="claude-3-5-sonnet-latest", api_key=api_key, base_url=emu.base_url,
                   api_format="openai").with_structured_output(
        Joke
    ).invoke("Tell me a joke about cats")
    assert joke.punchline == "To keep an eye on the mouse."
    assert emu.count("chat") == 1  # without the probe: 2 (the ignored tool_choice, then the JSON request)
    assert "tools" not in emu.last_request("chat").json  # type: ignore[union-attr]


def test_cache_switched_off(relay_servers: dict[str, Emulator], api_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = relay_servers["one-api"]
    probe(B3nClient(api_key=api_key, base_url=emu.base_url), ["gemini-1.5-flash-latest"])
    monkeypatch.setenv("B3N_PROBE_CACHE", "off")
    relay.MEMORY.forget()
    emu.reset()
    llm = B3n(model="gemini-1.5-flash-latest", api_key=api_key, api_base=emu.base_url)
    from llama_index.core.llms import ChatMessage

    history = [
        ChatMessage(role="user", content="What is magic_function(3)?"),
        ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "magic_function", "arguments": '{"input": 3}'}}]}),
        ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": "call_1"}),
    ]
    answer = llm.chat(history)
    assert "5" in str(answer.message.content)
    assert [r.status for r in _chat(emu)] == [400, 200]  # learned from the refusal instead


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
async def test_relay_probe_cache_setting_off(relay_servers: dict[str, Emulator], api_key: str, framework: str) -> None:
    emu = relay_servers["one-api"]
    probe(B3nClient(api_key=api_key, base_url=emu.base_url), ["gemini-1.5-flash-latest"])
    relay.MEMORY.forget()
    emu.reset()
    model = "gemini-1.5-flash-latest"
    if framework == "langchain":
        llm = ChatB3n(model=model, api_key=api_key, base_url=emu.base_url, relay_probe_cache=False)
        agent = create_agent(llm, [magic_function, get_weather])
        await agent.ainvoke({"messages": [("user", TASK)]})
    else:
        from llama_index.core.agent.workflow import FunctionAgent

        li = B3n(model=model, api_key=api_key, api_base=emu.base_url, relay_probe_cache=False)

        def magic(input: int) -> int:
            """Apply a magic function to an input."""
            return input + 2

        await FunctionAgent(tools=[magic], llm=li).run("What is magic(3)?")
    assert 400 in [r.status for r in _chat(emu)]  # the cache was not used: learned from the refusal


def test_models_command_names_the_probe_as_a_capability_source(
    relay_servers: dict[str, Emulator], api_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = relay_servers["one-api"]
    args = ["--base-url", emu.base_url, "--api-key", api_key]
    assert main(["models", "--json", *args]) == 0
    before = {m["id"]: m for m in json.loads(capsys.readouterr().out)}
    assert before["gemini-1.5-flash-latest"]["capabilities_from"] == "catalog"
    assert "json_mode" not in before["gemini-1.5-flash-latest"]["capabilities"]

    assert main(["probe", "--model", "gemini-1.5-flash-latest", "--no-save", *args]) == 0
    assert main(["probe", "--model", "gemini-1.5-flash-latest", *args]) == 0
    capsys.readouterr()
    assert main(["models", "--json", *args]) == 0
    after = {m["id"]: m for m in json.loads(capsys.readouterr().out)}
    gemini = after["gemini-1.5-flash-latest"]
    # one-api maps response_format onto Gemini's JSON mode: the probe turns the flag on, and says what it lacks
    assert "json_mode" in gemini["capabilities"]
    assert gemini["capabilities_from"] == (
        "catalog + probe: no model_name, no parallel_calls, no stream_tool_calls, no stream_usage, no tool_choice, "
        "no tool_result_turns")
    assert gemini["probe"]["tool_result_turns"] is False and gemini["probe"]["response_format"] is True
    assert after["gpt-4o-mini"]["capabilities_from"] == "catalog"  # only the probed family changes
    assert "probe" not in after["claude-3-5-sonnet-latest"]

    assert main(["models", *args]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("gemini-1.5-flash-latest "))
    assert row.split()[3] == "tools,vision,json_mode,stream" and "catalog + probe: no model_name" in row
