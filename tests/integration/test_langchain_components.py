"""LangChain's own components driven with ChatB3n / B3nEmbeddings, as a matrix: models x relay profiles.

Models: gpt-4o-mini, a small-context model (gpt-4, 8k), Claude and Gemini. Components that make tool calls run on
every relay profile (docs, one-api, new-api-2412, new-api); the others on the docs profile. Every case asserts the
answer. Structured output runs with the emulator's model answering in prose unless a tool is forced (as real models
often do), so a relay that drops ``tool_choice`` cannot hide behind an obliging emulator.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import SummarizationMiddleware
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage, trim_messages
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import BaseModel, Field

from b3n import B3nResponseError
from b3n.testing import Emulator
from langchain_b3n import B3nEmbeddings, ChatB3n
from tests.conftest import RELAY_PROFILES
from tests.langchain_tools import TASK, get_weather, magic_function

MODELS = ("gpt-4o-mini", "gpt-4", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest")
MAGIC = "What is the value of magic_function(3)? Use the tool."


class Movie(BaseModel):
    """A movie the user asked about."""

    title: str
    year: int


MOVIE_SCHEMA: dict[str, Any] = {
    "title": "Movie", "description": "A movie the user asked about.", "type": "object",
    "properties": {"title": {"type": "string"}, "year": {"type": "integer"}}, "required": ["title", "year"],
}
MOVIE_PROMPT = "Tell me about the movie 'Alien' from 1979."


@pytest.fixture
def relay(relay_servers: dict[str, Emulator], request: pytest.FixtureRequest) -> Iterator[Emulator]:
    emu = relay_servers[request.param]
    emu.reset()
    try:
        yield emu
    finally:
        emu.prose_unless_forced = False
        emu.reply_chunks = None
        emu.reset()


def _llm(emu: Emulator, model: str, **kwargs: Any) -> ChatB3n:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ChatB3n(model=model, api_key="sk-test", base_url=emu.base_url, max_retries=0, **kwargs)


TOOL_CASES = [pytest.param(p, m, id=f"{p}-{m}") for p in RELAY_PROFILES for m in MODELS]
DOCS_CASES = [pytest.param("docs", m, id=m) for m in MODELS]


# --------------------------------------------------------------------------- components that call tools


@pytest.mark.parametrize(("relay", "model"), TOOL_CASES, indirect=["relay"])
def test_create_agent_with_tools(relay: Emulator, model: str) -> None:
    agent = create_agent(_llm(relay, model), [magic_function])
    out = agent.invoke({"messages": [("user", MAGIC)]})
    results = [m.content for m in out["messages"] if isinstance(m, ToolMessage)]
    assert results == ["5"]
    assert "5" in out["messages"][-1].text


@pytest.mark.parametrize(("relay", "model"), TOOL_CASES, indirect=["relay"])
def test_create_agent_with_response_format(relay: Emulator, model: str) -> None:
    class Report(BaseModel):
        """The final report for the user."""

        magic_value: int = Field(description="What the magic function returned.")
        weather: str = Field(description="The weather, as reported by the weather tool.")

    agent = create_agent(_llm(relay, model), [magic_function, get_weather], response_format=Report)
    out = agent.invoke({"messages": [("user", TASK)]})
    assert out["structured_response"] == Report(magic_value=5, weather="It is sunny and 21 degrees in Paris.")


@pytest.mark.parametrize(("relay", "model"), TOOL_CASES, indirect=["relay"])
def test_create_agent_with_summarization_middleware(relay: Emulator, model: str) -> None:
    llm = _llm(relay, model)
    middleware = SummarizationMiddleware(model=llm, trigger=("messages", 4), keep=("messages", 2),
                                         token_counter=llm.get_num_tokens_from_messages)
    agent = create_agent(llm, [magic_function], middleware=[middleware])
    history: list[Any] = [("user", "say apple"), ("assistant", "apple"), ("user", "say pear"), ("assistant", "pear")]
    out = agent.invoke({"messages": [*history, ("user", MAGIC)]})
    assert "5" in out["messages"][-1].text
    assert any("summary" in str(m.content).lower() for m in out["messages"] if isinstance(m, HumanMessage))


@pytest.mark.parametrize("schema", [Movie, MOVIE_SCHEMA], ids=["pydantic", "json-schema"])
@pytest.mark.parametrize(("relay", "model"), TOOL_CASES, indirect=["relay"])
def test_with_structured_output_invoke_stream_batch(relay: Emulator, model: str, schema: Any) -> None:
    relay.prose_unless_forced = True
    runnable = _llm(relay, model).with_structured_output(schema)
    expected: Any = Movie(title="Alien", year=1979) if schema is Movie else {"title": "Alien", "year": 1979}
    assert runnable.invoke(MOVIE_PROMPT) == expected
    streamed = list(runnable.stream(MOVIE_PROMPT))
    assert streamed and streamed[-1] == expected  # partial dicts (from {}) before it, where the relay streams them
    assert runnable.batch([MOVIE_PROMPT, MOVIE_PROMPT]) == [expected, expected]


#: (profile, model) whose structured stream yields partial objects for a JSON schema: arguments that arrive in
#: pieces. Gemini sends each call whole; new-api does not forward tool_choice to Claude (the object then comes
#: from the structured fallback, whole). See docs/coming-from-openai.md.
PARTIAL = {(p, m) for p in RELAY_PROFILES for m in ("gpt-4o-mini", "gpt-4")} | {
    ("docs", "claude-3-5-sonnet-latest"), ("one-api", "claude-3-5-sonnet-latest")}


@pytest.mark.parametrize(("relay", "model"), TOOL_CASES, indirect=["relay"])
def test_structured_stream_yields_partial_objects_where_the_relay_streams_arguments(relay: Emulator,
                                                                                     model: str) -> None:
    relay.reply_chunks = 40
    streamed = list(_llm(relay, model).with_structured_output(MOVIE_SCHEMA).stream(MOVIE_PROMPT))
    assert streamed[-1] == {"title": "Alien", "year": 1979}
    partial = [s for s in streamed[:-1] if s != streamed[-1]]
    assert bool(partial) == ((relay.relay, model) in PARTIAL), streamed


@pytest.mark.parametrize("model", ["claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "gpt-4o-mini"])
def test_structured_output_without_any_answer_raises_instead_of_an_empty_object(emulator: Emulator,
                                                                                model: str) -> None:
    runnable = _llm(emulator, model).with_structured_output(Movie, method="function_calling")
    emulator.script("I would rather talk about the weather.", "Still the weather, sorry.")
    with pytest.raises(B3nResponseError, match="without calling the 'Movie' tool"):
        runnable.invoke(MOVIE_PROMPT)
    emulator.script("I would rather talk about the weather.", "Still the weather, sorry.")
    with pytest.raises(B3nResponseError, match="without calling the 'Movie' tool"):
        list(runnable.stream(MOVIE_PROMPT))


# --------------------------------------------------------------------------- components without tool calls


@pytest.mark.parametrize(("relay", "model"), DOCS_CASES, indirect=["relay"])
def test_astream_events(relay: Emulator, model: str) -> None:
    async def collect() -> list[dict[str, Any]]:
        return [e async for e in _llm(relay, model).astream_events("say 7", version="v2")]

    events = asyncio.run(collect())
    kinds = [e["event"] for e in events]
    assert kinds[0] == "on_chat_model_start" and kinds[-1] == "on_chat_model_end"
    streamed = "".join(e["data"]["chunk"].text for e in events if e["event"] == "on_chat_model_stream")
    assert streamed == "7" == events[-1]["data"]["output"].text


@pytest.mark.parametrize(("relay", "model"), DOCS_CASES, indirect=["relay"])
def test_trim_messages_with_the_model_as_token_counter(relay: Emulator, model: str) -> None:
    llm = _llm(relay, model)
    history = [SystemMessage("Be terse.")]
    for i in range(40):
        history += [HumanMessage(f"Remember the number {i}. " * 20), AIMessage(f"Noted {i}.")]
    history.append(HumanMessage("say 3"))
    budget = 2000 if model == "gpt-4" else 4000
    trimmed = trim_messages(history, max_tokens=budget, token_counter=llm, strategy="last", include_system=True,
                            start_on="human")
    assert trimmed[0] == history[0] and trimmed[-1] == history[-1] and len(trimmed) < len(history)
    assert llm.get_num_tokens_from_messages(trimmed) <= budget
    assert llm.invoke(trimmed).text == "3"


@pytest.mark.parametrize(("relay", "model"), DOCS_CASES, indirect=["relay"])
def test_retrieval_chain(relay: Emulator, model: str) -> None:
    embeddings = B3nEmbeddings(api_key="sk-test", base_url=relay.base_url)
    store = InMemoryVectorStore(embeddings)
    store.add_documents([
        Document("The Eiffel Tower is in Paris and was finished in 1889."),
        Document("Penguins live in the southern hemisphere."),
        Document("Photosynthesis turns light into chemical energy."),
    ])
    retriever = store.as_retriever(search_kwargs={"k": 1})
    prompt = ChatPromptTemplate.from_messages([
        ("system", "Answer from the context only.\nContext:\n{context}"), ("human", "{question}"),
    ])

    def join(docs: list[Document]) -> str:
        return "\n".join(d.page_content for d in docs)

    chain = {"context": retriever | join, "question": RunnablePassthrough()} | prompt | _llm(relay, model) | (
        StrOutputParser())
    answer = chain.invoke("When was the Eiffel Tower in Paris finished?")
    assert "1889" in answer


@pytest.mark.parametrize(("relay", "model"), DOCS_CASES, indirect=["relay"])
def test_batch_as_completed(relay: Emulator, model: str) -> None:
    llm = _llm(relay, model)
    done = dict(llm.batch_as_completed(["say 1", "say 2", "say 3"], config={"max_concurrency": 2}))
    assert {i: m.text for i, m in done.items()} == {0: "1", 1: "2", 2: "3"}
    assert relay.count("chat") == 3
