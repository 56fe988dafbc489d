"""``create_agent(..., response_format=Schema)`` ends with ``result["structured_response"]`` filled from the tool results.

Models whose profile lacks provider structured output (Claude, Gemini 1.5 here) get LangChain's tool
strategy: the schema becomes one more tool and every model call uses ``tool_choice="any"``
(``"required"`` on the wire). After the real tools have answered, the model must call a tool it has
not called yet — the schema tool — with arguments taken from the results. gpt-4o-mini uses the
provider strategy instead (``response_format`` JSON schema on the last call).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from pydantic import BaseModel, Field

from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from tests.langchain_tools import TASK, get_weather, magic_function


class Report(BaseModel):
    """The final report for the user."""

    magic_value: int = Field(description="What the magic function returned.")
    weather: str = Field(description="The weather, as reported by the weather tool.")


def _agent(model: str, emulator: Emulator, api_key: str) -> Any:
    llm = ChatB3n(model=model, api_key=api_key, base_url=emulator.base_url)
    return create_agent(llm, [magic_function, get_weather], response_format=Report)


def _check(out: dict[str, Any]) -> None:
    report = out["structured_response"]
    assert isinstance(report, Report)
    assert report.magic_value == 5  # from the tool result, not the 3 in the prompt
    assert report.weather == "It is sunny and 21 degrees in Paris."
    results = {m.name: m.content for m in out["messages"] if isinstance(m, ToolMessage) and m.name != "Report"}
    assert results == {"magic_function": "5", "get_weather": "It is sunny and 21 degrees in Paris."}
    calls = [c["name"] for m in out["messages"] if isinstance(m, AIMessage) for c in m.tool_calls]
    assert calls.count("magic_function") == 1 and calls.count("get_weather") == 1  # no tool re-called


@pytest.mark.parametrize("model", ["claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"])
def test_tool_strategy(emulator: Emulator, api_key: str, model: str) -> None:
    out = _agent(model, emulator, api_key).invoke({"messages": [("user", TASK)]})
    _check(out)
    sent = [r.json for r in emulator.requests if r.route.endswith("/chat/completions")]
    assert len(sent) == 2
    assert all(body["tool_choice"] == "required" and "response_format" not in body for body in sent)
    assert {t["function"]["name"] for t in sent[0]["tools"]} == {"magic_function", "get_weather", "Report"}
    last_call = [m for m in out["messages"] if isinstance(m, AIMessage)][-1].tool_calls
    assert [c["name"] for c in last_call] == ["Report"]


def test_provider_strategy(emulator: Emulator, api_key: str) -> None:
    out = _agent("gpt-4o-mini", emulator, api_key).invoke({"messages": [("user", TASK)]})
    _check(out)
    last = emulator.last_request("chat")
    assert last is not None and last.json["response_format"]["type"] == "json_schema"
    assert json.loads(out["messages"][-1].text) == {"magic_value": 5, "weather": "It is sunny and 21 degrees in Paris."}


@pytest.mark.parametrize("model", ["claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "gpt-4o-mini"])
async def test_tool_strategy_streamed(emulator: Emulator, api_key: str, model: str) -> None:
    llm = ChatB3n(model=model, api_key=api_key, base_url=emulator.base_url, streaming=True)
    agent = create_agent(llm, [magic_function, get_weather], response_format=Report)
    out: dict[str, Any] = {}
    async for state in agent.astream({"messages": [("user", TASK)]}, stream_mode="values"):
        out = state
    _check(out)
