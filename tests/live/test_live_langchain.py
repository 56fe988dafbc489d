"""ChatB3n key flows against the real B3n relay. Runs only when ``B3N_API_KEY`` is set.

The credentials are read when this module is imported (collection time): the shared
``tests/conftest.py`` removes every ``B3N_*`` variable once the session starts, so the
values are passed to ``ChatB3n`` explicitly. Optional: ``B3N_BASE_URL`` and
``B3N_LIVE_MODELS`` (comma-separated, default: gpt-4o-mini, claude-3-5-sonnet-latest,
gemini-1.5-flash-latest). Each test makes one to three small requests.

    B3N_API_KEY=sk-... pytest tests/live/test_live_langchain.py -q
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from langchain_b3n import ChatB3n

API_KEY = os.environ.get("B3N_API_KEY", "")
BASE_URL = os.environ.get("B3N_BASE_URL") or None
MODELS = [
    m.strip()
    for m in os.environ.get("B3N_LIVE_MODELS", "gpt-4o-mini,claude-3-5-sonnet-latest,gemini-1.5-flash-latest").split(
        ","
    )
    if m.strip()
]

pytestmark = [
    pytest.mark.skipif(not API_KEY, reason="set B3N_API_KEY to run the live B3n tests"),
    pytest.mark.timeout(180),
]


def _llm(model: str, **kwargs: Any) -> ChatB3n:
    return ChatB3n(model=model, api_key=API_KEY, base_url=BASE_URL, max_tokens=200, **kwargs)


@tool
def get_weather(location: str) -> str:
    """Get the current weather at a location."""
    return f"It is sunny and 21 degrees Celsius in {location}."


class Answer(BaseModel):
    """An answer with a confidence."""

    answer: str = Field(description="the short answer")
    confidence: float = Field(description="confidence between 0 and 1")


@pytest.mark.parametrize("model", MODELS)
def test_live_invoke_and_stream(model: str) -> None:
    llm = _llm(model, temperature=0)
    msg = llm.invoke([SystemMessage("Reply with one word."), HumanMessage("Say hello.")])
    assert isinstance(msg, AIMessage) and msg.text.strip()
    assert msg.response_metadata["model_name"]
    assert msg.usage_metadata is not None and msg.usage_metadata["total_tokens"] > 0
    chunks = list(llm.stream("Count from 1 to 5, separated by spaces."))
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert isinstance(full, AIMessageChunk) and "3" in full.text
    assert full.response_metadata["model_name"]
    assert sum(1 for c in chunks if c.usage_metadata) <= 1


@pytest.mark.parametrize("model", MODELS)
async def test_live_async(model: str) -> None:
    msg = await _llm(model).ainvoke("What is 2 + 2? Reply with the number only.")
    assert "4" in msg.text


@pytest.mark.parametrize("model", MODELS)
def test_live_tool_round_trip(model: str) -> None:
    llm = _llm(model).bind_tools([get_weather], tool_choice="any")
    question = HumanMessage("What is the weather in Paris?")
    first = llm.invoke([question])
    assert first.tool_calls and first.tool_calls[0]["name"] == "get_weather"
    call = first.tool_calls[0]
    result = ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])
    final = _llm(model).bind_tools([get_weather]).invoke([question, first, result])
    assert final.text.strip()
    streamed = None
    for chunk in llm.stream([question]):
        streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None and streamed.tool_calls and streamed.tool_calls[0]["name"] == "get_weather"


@pytest.mark.parametrize("model", MODELS)
def test_live_structured_output_default_method(model: str) -> None:
    result = _llm(model).with_structured_output(Answer).invoke("What is the capital of France?")
    assert isinstance(result, Answer)
    assert "paris" in result.answer.lower()


def test_live_o1_adaptation() -> None:
    llm = ChatB3n(model=os.environ.get("B3N_LIVE_O1", "o1-mini"), api_key=API_KEY, base_url=BASE_URL, max_tokens=2000)
    with pytest.warns(UserWarning):
        msg = llm.invoke([SystemMessage("Answer with the number only."), HumanMessage("What is 6 * 7?")], temperature=0)
    assert "42" in msg.text
    full = None
    for chunk in llm.stream("Say 1"):
        full = chunk if full is None else full + chunk
    assert full is not None and full.text.strip()
