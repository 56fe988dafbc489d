"""Agents on ChatB3n: a two-tool task run to a final answer against the emulator, for a GPT,
a Claude and a Gemini model, with LangChain's ``create_agent`` and LangGraph's prebuilt
ReAct agent, invoked and streamed."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from pydantic import BaseModel

from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from tests.langchain_tools import TASK, get_weather, magic_function

MODELS = ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"]


def _build(kind: str, llm: ChatB3n, **kwargs: Any) -> Any:
    if kind == "create_agent":
        return create_agent(llm, [magic_function, get_weather], **kwargs)
    from langgraph.prebuilt import create_react_agent

    with warnings.catch_warnings():  # deprecated in LangGraph 1.x in favour of create_agent, still supported
        warnings.simplefilter("ignore", DeprecationWarning)
        return create_react_agent(llm, [magic_function, get_weather], **kwargs)


def _check_transcript(messages: list[BaseMessage]) -> None:
    tool_results = {m.name: m.content for m in messages if isinstance(m, ToolMessage)}
    assert tool_results == {"magic_function": "5", "get_weather": "It is sunny and 21 degrees in Paris."}
    calls = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    assert sorted((c["name"], c["args"]) for c in calls) == [
        ("get_weather", {"location": "Paris"}),
        ("magic_function", {"input": 3}),
    ]
    final = messages[-1]
    assert isinstance(final, AIMessage)
    assert not final.tool_calls
    assert "5" in final.text and "sunny" in final.text


@pytest.mark.parametrize("kind", ["create_agent", "create_react_agent"])
@pytest.mark.parametrize("model", MODELS)
def test_agent_invoke(base_url: str, api_key: str, emulator: Emulator, model: str, kind: str) -> None:
    agent = _build(kind, ChatB3n(model=model, api_key=api_key, base_url=base_url))
    out = agent.invoke({"messages": [("user", TASK)]})
    _check_transcript(out["messages"])
    assert emulator.count("chat") == 2


@pytest.mark.parametrize("kind", ["create_agent", "create_react_agent"])
@pytest.mark.parametrize("model", MODELS)
def test_agent_stream_tokens(base_url: str, api_key: str, emulator: Emulator, model: str, kind: str) -> None:
    """``stream_mode="messages"`` streams model tokens through ChatB3n._stream."""
    agent = _build(kind, ChatB3n(model=model, api_key=api_key, base_url=base_url))
    chunks: list[AIMessageChunk] = []
    for message, _meta in agent.stream({"messages": [("user", TASK)]}, stream_mode="messages"):
        if isinstance(message, AIMessageChunk):
            chunks.append(message)
    streamed_text = "".join(c.text for c in chunks)
    assert "sunny" in streamed_text and "5" in streamed_text
    assert any(c.tool_call_chunks for c in chunks)
    assert all(r.json.get("stream") is True for r in emulator.requests if r.route.endswith("chat/completions"))
    assert emulator.count("chat") == 2


@pytest.mark.parametrize("model", MODELS)
async def test_agent_astream_updates(base_url: str, api_key: str, emulator: Emulator, model: str) -> None:
    agent = _build("create_agent", ChatB3n(model=model, api_key=api_key, base_url=base_url, streaming=True))
    messages: list[BaseMessage] = []
    async for update in agent.astream({"messages": [("user", TASK)]}, stream_mode="updates"):
        for node in update.values():
            messages.extend((node or {}).get("messages", []))
    _check_transcript(messages)
    assert emulator.count("chat") == 2


def test_agent_with_provider_structured_response(base_url: str, api_key: str, emulator: Emulator) -> None:
    """gpt-4o-mini's profile says ``structured_output``: create_agent uses response_format directly."""

    class Report(BaseModel):
        """Final report."""

        magic_value: int
        weather: str

    agent = _build(
        "create_agent", ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url), response_format=Report
    )
    out = agent.invoke({"messages": [("user", TASK)]})
    report = out["structured_response"]
    assert isinstance(report, Report)
    rec = emulator.last_request("chat")
    assert rec is not None and rec.json["response_format"]["type"] == "json_schema"
