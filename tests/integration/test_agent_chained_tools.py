"""Sequential tool use: 'What is 3 * 4? Then add 5 to the result.' runs multiply, then add(12, 5), then answers 17.

The scripted model calls one tool per step of a sequential prompt and feeds each step the previous
step's result, so an agent needs three model calls. Prompts that name independent tools still get
parallel calls (see test_langchain_agent.py / test_llamaindex_agent.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool

from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from tests.framework_inputs import add, multiply

MODELS = ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"]
PROMPTS = ["What is 3 * 4? Then add 5 to the result.", "multiply 3 and 4, then add 5 to that"]


def _check_calls(calls: list[tuple[str, dict[str, Any]]]) -> None:
    assert [name for name, _ in calls] == ["multiply", "add"]
    assert calls[0][1] == {"a": 3, "b": 4}
    assert 12 in (calls[1][1]["a"], calls[1][1]["b"]) and sorted(calls[1][1].values()) == [5, 12]


def _check_requests(emulator: Emulator) -> None:
    """Three model calls, each assistant message holding one call (sequential, not parallel)."""
    bodies = [r.json for r in emulator.requests if r.route.endswith("/chat/completions")]
    assert len(bodies) == 3
    sent = [m for m in bodies[-1]["messages"] if m["role"] == "assistant"]
    assert [[c["function"]["name"] for c in m["tool_calls"]] for m in sent] == [["multiply"], ["add"]]


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("model", MODELS)
def test_langchain_create_agent(emulator: Emulator, api_key: str, model: str, prompt: str) -> None:
    llm = ChatB3n(model=model, api_key=api_key, base_url=emulator.base_url)
    agent = create_agent(llm, [tool(multiply), tool(add)])
    out = agent.invoke({"messages": [("user", prompt)]})
    messages = out["messages"]
    _check_calls([(c["name"], c["args"]) for m in messages if isinstance(m, AIMessage) for c in m.tool_calls])
    assert [m.content for m in messages if isinstance(m, ToolMessage)] == ["12", "17"]
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert "17" in final.text
    _check_requests(emulator)


@pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect")
@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "blocking"])
@pytest.mark.parametrize("model", MODELS)
async def test_llamaindex_function_agent(emulator: Emulator, api_key: str, model: str, streaming: bool) -> None:
    from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult

    from llama_index_b3n import B3n

    llm = B3n(model=model, api_key=api_key, api_base=emulator.base_url)
    agent = FunctionAgent(tools=[multiply, add], llm=llm, streaming=streaming)
    handler = agent.run(PROMPTS[0])
    results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    answer = str(await handler)
    _check_calls([(r.tool_name, r.tool_kwargs) for r in results])
    assert [r.tool_output.content for r in results] == ["12", "17"]
    assert "17" in answer
    _check_requests(emulator)
