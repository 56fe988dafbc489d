"""The LlamaIndex ``B3n`` flows against the real B3n relay; run only when ``B3N_API_KEY`` is set.

tests/conftest.py removes B3N_* variables at session start (hermetic runs), so the key and
base URL are read here, at import time. Assertions are loose: real models are not scripted.

    B3N_API_KEY=sk-... pytest tests/live/test_live_llamaindex.py -q
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from tests.framework_inputs import add, multiply

API_KEY = os.environ.get("B3N_API_KEY")
BASE_URL = os.environ.get("B3N_BASE_URL") or None

pytestmark = pytest.mark.skipif(not API_KEY, reason="live B3n tests need B3N_API_KEY")

MODELS = ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "o1-mini"]
TOOL_MODELS = MODELS[:3]


def _llm(model: str, **kwargs: Any) -> Any:
    from llama_index_b3n import B3n

    return B3n(model=model, api_key=API_KEY, api_base=BASE_URL, max_retries=3, **kwargs)


class City(BaseModel):
    """A city and the country it is in."""

    name: str
    country: str


@pytest.mark.parametrize("model", MODELS)
def test_live_chat_and_stream(model: str) -> None:
    llm = _llm(model)
    messages = [ChatMessage(role="user", content="Reply with the single digit 1 and nothing else.")]
    response = llm.chat(messages)
    assert "1" in (response.message.content or "")
    assert response.additional_kwargs["total_tokens"] > 0
    streamed = list(llm.stream_chat(messages))
    assert "1" in (streamed[-1].message.content or "")
    assert "".join(r.delta or "" for r in streamed) == streamed[-1].message.content


@pytest.mark.parametrize("model", MODELS)
async def test_live_async(model: str) -> None:
    llm = _llm(model)
    response = await llm.acomplete("Reply with the single word yes.")
    assert "yes" in response.text.lower()
    chunks = [r async for r in await llm.astream_complete("Reply with the single word yes.")]
    assert "yes" in chunks[-1].text.lower()


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_live_tool_call(model: str) -> None:
    llm = _llm(model)
    tools = [FunctionTool.from_defaults(fn=multiply), FunctionTool.from_defaults(fn=add)]
    response = llm.chat_with_tools(tools, user_msg="What is 3 times 4? Use a tool.", tool_required=True)
    calls = llm.get_tool_calls_from_response(response)
    assert calls[0].tool_name == "multiply" and calls[0].tool_kwargs == {"a": 3, "b": 4}


@pytest.mark.parametrize("model", TOOL_MODELS)
async def test_live_function_agent(model: str) -> None:
    from llama_index.core.agent.workflow import FunctionAgent

    agent = FunctionAgent(tools=[multiply, add], llm=_llm(model))
    answer = await agent.run("What is 3 * 4? Then add 5 to the result using the add tool.")
    assert "17" in str(answer)


@pytest.mark.parametrize("model", MODELS)
def test_live_structured_predict(model: str) -> None:
    city = _llm(model).structured_predict(City, PromptTemplate("Which city is the Eiffel Tower in? {hint}"), hint="")
    assert city.name.lower() == "paris" and "france" in city.country.lower()


def test_live_rag() -> None:
    from llama_index.core import Document, VectorStoreIndex

    from llama_index_b3n import B3nEmbedding

    docs = [
        Document(text="Mount Fuji last erupted in 1707."),
        Document(text="The Eiffel Tower was completed in 1889."),
    ]
    index = VectorStoreIndex.from_documents(docs, embed_model=B3nEmbedding(api_key=API_KEY, api_base=BASE_URL))
    answer = index.as_query_engine(llm=_llm("gpt-4o-mini")).query("When did Mount Fuji last erupt?")
    assert "1707" in str(answer)
