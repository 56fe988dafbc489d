"""The relay's real behaviour: ``b3n probe`` and a two-tool agent per model family. Runs only when ``B3N_API_KEY`` is set.

The probe's findings are printed (run with ``-s`` to see the table) and only checked for consistency (the real
relay may behave like any profile); the agents must finish whatever the relay does. Optional: ``B3N_BASE_URL``,
``B3N_LIVE_MODELS`` (comma-separated, default: gpt-4o-mini, claude-3-5-sonnet-latest, gemini-1.5-flash-latest).
The probe makes six calls of at most 64 tokens per family; each agent three to five small calls.

    B3N_API_KEY=sk-... pytest tests/live/test_live_relay.py -q -s
"""

from __future__ import annotations

import os

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from pydantic import BaseModel

from b3n import B3nClient
from b3n._probe import BEHAVIOURS, probe
from langchain_b3n import ChatB3n
from llama_index_b3n import B3n

API_KEY = os.environ.get("B3N_API_KEY", "")
BASE_URL = os.environ.get("B3N_BASE_URL") or None
MODELS = [m.strip() for m in os.environ.get(
    "B3N_LIVE_MODELS", "gpt-4o-mini,claude-3-5-sonnet-latest,gemini-1.5-flash-latest").split(",") if m.strip()]

pytestmark = [
    pytest.mark.skipif(not API_KEY, reason="set B3N_API_KEY to run the live B3n tests"),
    pytest.mark.timeout(300),
]


def test_live_probe() -> None:
    report = probe(B3nClient(api_key=API_KEY, base_url=BASE_URL), MODELS)
    print("\n" + report.table())
    assert set(report.models.values()) == set(MODELS)
    for found in report.families.values():
        assert set(found) == set(BEHAVIOURS)
    assert report.requests == 6 * len(MODELS)


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers and return the product."""
    return a * b


@tool
def add(a: int, b: int) -> int:
    """Add two integers and return the sum."""
    return a + b


TASK = "Use the multiply tool to multiply 3 and 4, and use the add tool to add 3 and 4."


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
@pytest.mark.parametrize("model", MODELS)
def test_live_langchain_agent(model: str, stream: bool) -> None:
    llm = ChatB3n(model=model, api_key=API_KEY, base_url=BASE_URL, temperature=0, max_tokens=300)
    agent = create_agent(llm, [multiply, add])
    if stream:
        messages = []
        for update in agent.stream({"messages": [("user", TASK)]}, stream_mode="updates"):
            for node in update.values():
                messages.extend((node or {}).get("messages", []))
    else:
        messages = agent.invoke({"messages": [("user", TASK)]})["messages"]
    results = sorted(str(m.content) for m in messages if isinstance(m, ToolMessage))
    assert results == ["12", "7"]
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls and "12" in final.text and "7" in final.text


@pytest.mark.parametrize("model", MODELS)
async def test_live_llamaindex_function_agent(model: str) -> None:
    llm = B3n(model=model, api_key=API_KEY, api_base=BASE_URL, temperature=0, max_tokens=300)

    def times(a: int, b: int) -> int:
        """Multiply two integers and return the product."""
        return a * b

    def plus(a: int, b: int) -> int:
        """Add two integers and return the sum."""
        return a + b

    handler = FunctionAgent(tools=[times, plus], llm=llm).run(TASK.replace("multiply tool", "times tool")
                                                               .replace("add tool", "plus tool"))
    results = [e.tool_output.content async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    assert sorted(results) == ["12", "7"]
    answer = str(await handler)
    assert "12" in answer and "7" in answer


class City(BaseModel):
    """A city and its country."""

    city: str
    country: str


@pytest.mark.parametrize("model", MODELS)
def test_live_structured_output(model: str) -> None:
    llm = ChatB3n(model=model, api_key=API_KEY, base_url=BASE_URL, temperature=0, max_tokens=200)
    found = llm.with_structured_output(City).invoke(
        "Extract the city and the country from this sentence: The Eiffel Tower stands in Paris, France."
    )
    assert isinstance(found, City) and "paris" in found.city.lower() and "france" in found.country.lower()
