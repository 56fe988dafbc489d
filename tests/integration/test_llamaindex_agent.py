"""LlamaIndex agents (``FunctionAgent``, ``ReActAgent``) on ``B3n`` against the emulator, with streaming events.

The emulator is a deterministic scripted model: it calls every tool the user names in one turn
(parallel calls), with arguments taken from the prompt, then answers from the tool results. The
task is written so that such a model completes it: two tools, two results in the final answer.
"""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.agent.workflow import (
    AgentOutput,
    AgentStream,
    FunctionAgent,
    ReActAgent,
    ToolCall,
    ToolCallResult,
)
from llama_index.core.memory import ChatMemoryBuffer

from b3n.testing import Emulator
from llama_index_b3n import B3n
from tests.framework_inputs import add, multiply

# LlamaIndex's workflow internals inspect pydantic objects and trigger pydantic deprecation warnings.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect")

TASK = "Use the multiply tool to multiply 3 and 4, and use the add tool to add 3 and 4."
TOOL_MODELS = ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"]


async def _run(agent: Any, task: str, memory: Any = None) -> tuple[str, list[ToolCallResult], list[Any]]:
    handler = agent.run(task, memory=memory)
    results: list[ToolCallResult] = []
    events: list[Any] = []
    async for event in handler.stream_events():
        events.append(event)
        if isinstance(event, ToolCallResult):
            results.append(event)
    return str(await handler), results, events


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "blocking"])
@pytest.mark.parametrize("model", TOOL_MODELS)
async def test_function_agent_two_tools(emulator: Emulator, api_key: str, model: str, streaming: bool) -> None:
    llm = B3n(model=model, api_key=api_key, api_base=emulator.base_url)
    agent = FunctionAgent(tools=[multiply, add], llm=llm, streaming=streaming, system_prompt="You do arithmetic.")
    answer, results, events = await _run(agent, TASK)

    assert [(r.tool_name, r.tool_kwargs, r.tool_output.content) for r in results] == [
        ("multiply", {"a": 3, "b": 4}, "12"),
        ("add", {"a": 3, "b": 4}, "7"),
    ]
    assert "12" in answer and "7" in answer
    assert any(isinstance(e, ToolCall) for e in events)
    outputs = [e for e in events if isinstance(e, AgentOutput)]
    assert outputs[-1].raw["usage"]["total_tokens"] > 0
    if streaming:
        deltas = [e.delta for e in events if isinstance(e, AgentStream)]
        assert len(deltas) > 3
        assert "".join(deltas).endswith(answer)
    # the second request re-sent the assistant tool calls and their results (round trip)
    sent = emulator.last_request("chat").json  # type: ignore[union-attr]
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "tool"]
    assert [c["function"]["name"] for c in sent["messages"][2]["tool_calls"]] == ["multiply", "add"]
    assert emulator.count("chat") == 2


@pytest.mark.parametrize("model", TOOL_MODELS)
async def test_function_agent_keeps_history_across_runs(emulator: Emulator, api_key: str, model: str) -> None:
    llm = B3n(model=model, api_key=api_key, api_base=emulator.base_url)
    agent = FunctionAgent(tools=[multiply, add], llm=llm)
    memory = ChatMemoryBuffer.from_defaults()
    first, results, _ = await _run(agent, "Use the multiply tool to multiply 6 and 7.", memory)
    assert [r.tool_output.content for r in results] == ["42"] and "42" in first
    second, results, _ = await _run(agent, "Now use the add tool to add 2 and 3.", memory)
    assert [r.tool_output.content for r in results] == ["5"] and "5" in second
    sent = emulator.last_request("chat").json  # type: ignore[union-attr]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool", "assistant", "user", "assistant", "tool"]


@pytest.mark.parametrize("model", TOOL_MODELS)
async def test_react_agent_two_tools(emulator: Emulator, api_key: str, model: str) -> None:
    """ReAct is text-based: the model must answer the ReAct system prompt with ``Thought/Action/Action Input``
    lines and, after ``Observation:`` turns, with ``Answer:``. Needs the emulator to script that format."""
    llm = B3n(model=model, api_key=api_key, api_base=emulator.base_url)
    agent = ReActAgent(tools=[multiply, add], llm=llm, streaming=True)
    answer, results, events = await _run(agent, TASK)
    assert sorted((r.tool_name, r.tool_output.content) for r in results) == [("add", "7"), ("multiply", "12")]
    assert "12" in answer and "7" in answer
    assert any(isinstance(e, AgentStream) for e in events)
