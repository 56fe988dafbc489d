"""LlamaIndex's own components on ``B3n`` / ``B3nEmbedding``: a matrix of component x model x relay profile.

Each case drives a component the way an application does and asserts the answer it gives. Models: gpt-4o-mini,
gpt-4 (an 8k context: the query engines must fit their prompts), Claude and Gemini. Components that make tool
calls run on every relay profile (docs, one-api, new-api-2412, new-api: each rewrites Claude and Gemini tool
calls its own way); the others on the docs profile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent, ReActAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.program import FunctionCallingProgram, LLMTextCompletionProgram
from llama_index.core.prompts import PromptTemplate
from llama_index.core.query_engine import RouterQueryEngine
from llama_index.core.selectors import LLMSingleSelector, PydanticSingleSelector
from llama_index.core.tools import QueryEngineTool
from pydantic import BaseModel

from b3n.testing import Emulator
from llama_index_b3n import B3n, B3nEmbedding
from tests.conftest import RELAY_PROFILES, relay_fleet
from tests.framework_inputs import MOVIE_TEXT, Movie, multiply

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect")

MODELS = ["gpt-4o-mini", "gpt-4", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"]
RELAYS = RELAY_PROFILES
FACTS = [
    "The Eiffel Tower is in Paris. It was completed in 1889.",
    "Mount Fuji is the highest mountain in Japan. It last erupted in 1707.",
    "The Amazon river flows through Brazil. It carries more water than any other river.",
    "Honey bees communicate through a waggle dance. A colony can hold fifty thousand bees.",
]
# a long document: on an 8k model the engines must cut it to fit (they failed outright before)
FILLER = " ".join(f"Filler sentence number {i} says nothing about mountains." for i in range(400))
DOCS = [Document(text=t) for t in FACTS] + [Document(text=FILLER)]
QUESTION = "When did Mount Fuji last erupt?"
PROMPT = PromptTemplate("Name the movie in this text with its year: {text}")


@pytest.fixture(scope="module")
def relays() -> Iterator[dict[str, Emulator]]:
    with relay_fleet() as emulators:
        yield emulators


@pytest.fixture(scope="module")
def index(relays: dict[str, Emulator]) -> VectorStoreIndex:
    """One index for every case (the embeddings come from the docs-profile emulator)."""
    embed = B3nEmbedding(api_key="sk-test", api_base=relays["docs"].base_url)
    return VectorStoreIndex.from_documents(DOCS, embed_model=embed)


def _llm(emu: Emulator, model: str) -> B3n:
    return B3n(model=model, api_key="sk-test", api_base=emu.base_url, max_retries=0)


def _movie(value: Any) -> Movie:
    movie = value.raw if hasattr(value, "raw") and not isinstance(value, BaseModel) else value
    movie = getattr(movie, "raw", movie)
    return Movie.model_validate(movie.model_dump() if isinstance(movie, BaseModel) else movie)


# ----------------------------------------------------------------------------- the components


def _query(mode: str, top_k: int = 2) -> Callable[[B3n, VectorStoreIndex], Awaitable[str]]:
    async def run(llm: B3n, index: VectorStoreIndex) -> str:
        engine = index.as_query_engine(llm=llm, similarity_top_k=top_k, response_mode=mode)
        return str(await engine.aquery(QUESTION))
    return run


async def _streaming_query(llm: B3n, index: VectorStoreIndex) -> str:
    engine = index.as_query_engine(llm=llm, similarity_top_k=2, streaming=True)
    return "".join(engine.query(QUESTION).response_gen)  # type: ignore[union-attr]


def _chat(mode: str, **options: Any) -> Callable[[B3n, VectorStoreIndex], Awaitable[str]]:
    async def run(llm: B3n, index: VectorStoreIndex) -> str:
        engine = index.as_chat_engine(llm=llm, chat_mode=mode, similarity_top_k=2, **options)
        return str(await engine.achat(QUESTION))
    return run


async def _function_agent(llm: B3n, index: VectorStoreIndex) -> str:
    handler = FunctionAgent(tools=[multiply], llm=llm).run("Use the multiply tool to multiply 6 and 7.")
    results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    assert [r.tool_output.content for r in results] == ["42"]
    return str(await handler)


async def _agent_workflow(llm: B3n, index: VectorStoreIndex) -> str:
    workflow = AgentWorkflow.from_tools_or_functions([multiply], llm=llm)
    return str(await workflow.run(user_msg="Use the multiply tool to multiply 6 and 7."))


async def _react_agent(llm: B3n, index: VectorStoreIndex) -> str:
    return str(await ReActAgent(tools=[multiply], llm=llm).run("Use the multiply tool to multiply 6 and 7."))


async def _structured_predict(llm: B3n, index: VectorStoreIndex) -> str:
    return _movie(await llm.astructured_predict(Movie, PROMPT, text=MOVIE_TEXT)).model_dump_json()


async def _stream_structured_predict(llm: B3n, index: VectorStoreIndex) -> str:
    return _movie(list(llm.stream_structured_predict(Movie, PROMPT, text=MOVIE_TEXT))[-1]).model_dump_json()


async def _as_structured_llm(llm: B3n, index: VectorStoreIndex) -> str:
    structured = llm.as_structured_llm(Movie)
    message = [ChatMessage(role="user", content=PROMPT.format(text=MOVIE_TEXT))]
    chat = _movie(structured.chat(message).raw)
    streamed = _movie(list(structured.stream_chat(message))[-1].raw)
    assert chat == streamed
    return chat.model_dump_json()


async def _function_calling_program(llm: B3n, index: VectorStoreIndex) -> str:
    program = FunctionCallingProgram.from_defaults(output_cls=Movie, prompt=PROMPT, llm=llm)
    called = _movie(program(text=MOVIE_TEXT))
    streamed = _movie(list(program.stream_call(text=MOVIE_TEXT))[-1])
    assert called == streamed
    return called.model_dump_json()


async def _text_completion_program(llm: B3n, index: VectorStoreIndex) -> str:
    program = LLMTextCompletionProgram.from_defaults(output_cls=Movie, prompt=PROMPT, llm=llm)
    return _movie(program(text=MOVIE_TEXT)).model_dump_json()


async def _router(llm: B3n, index: VectorStoreIndex) -> str:
    facts = QueryEngineTool.from_defaults(
        index.as_query_engine(llm=llm, similarity_top_k=2), description="Facts about mountains, rivers and towers.")
    empty = VectorStoreIndex.from_documents([Document(text="Nothing here.")], embed_model=index._embed_model)
    other = QueryEngineTool.from_defaults(empty.as_query_engine(llm=llm), description="Recipes for cakes.")
    selector = PydanticSingleSelector.from_defaults(llm=llm) if llm.metadata.is_function_calling_model \
        else LLMSingleSelector.from_defaults(llm=llm)
    router = RouterQueryEngine(selector=selector, query_engine_tools=[facts, other], llm=llm)
    return str(await router.aquery(QUESTION))


async def _ingestion(llm: B3n, index: VectorStoreIndex) -> str:
    embed = index._embed_model
    pipeline = IngestionPipeline(transformations=[SentenceSplitter(chunk_size=128, chunk_overlap=0), embed])
    nodes = await pipeline.arun(documents=DOCS)
    assert len(nodes) > len(DOCS) and all(len(n.embedding or []) == 1536 for n in nodes)
    found = VectorStoreIndex(nodes, embed_model=embed).as_retriever(similarity_top_k=1).retrieve(QUESTION)
    return found[0].node.get_content()


#: component: (the run, what the answer must contain, makes tool calls)
COMPONENTS: dict[str, tuple[Callable[[B3n, VectorStoreIndex], Awaitable[str]], str, bool]] = {
    "query:compact": (_query("compact"), "1707", False),
    # the scripted model answers a refine step from its new context alone: one chunk keeps the answer
    "query:refine": (_query("refine", top_k=1), "1707", False),
    "query:tree_summarize": (_query("tree_summarize"), "1707", False),
    "query:streaming": (_streaming_query, "1707", False),
    # the scripted model finds retrieved text after "Context information is below." (LlamaIndex's QA wording)
    "chat:context": (_chat("context", context_template="Context information is below.\n{context_str}\n"), "1707",
                     False),
    "chat:condense_plus_context": (_chat("condense_plus_context"), "1707", False),
    "FunctionAgent": (_function_agent, "42", True),
    "AgentWorkflow": (_agent_workflow, "42", True),
    "ReActAgent": (_react_agent, "42", False),
    "structured_predict": (_structured_predict, "1979", True),
    "stream_structured_predict": (_stream_structured_predict, "1979", True),
    "as_structured_llm": (_as_structured_llm, "1979", True),
    "FunctionCallingProgram": (_function_calling_program, "1979", True),
    "LLMTextCompletionProgram": (_text_completion_program, "1979", False),
    "RouterQueryEngine": (_router, "1707", True),
    "IngestionPipeline": (_ingestion, "1707", False),
}

CASES = [
    pytest.param(component, model, relay, id=f"{component}-{model}-{relay}")
    for component, (_, _, tools) in COMPONENTS.items()
    for model in MODELS
    for relay in (RELAYS if tools else ["docs"])
    if not (component == "IngestionPipeline" and model != MODELS[0])  # no LLM in it
]


@pytest.mark.parametrize(("component", "model", "relay"), CASES)
async def test_component(relays: dict[str, Emulator], index: VectorStoreIndex, component: str, model: str,
                         relay: str) -> None:
    emu = relays[relay]
    run, expected, _ = COMPONENTS[component]
    previous = Settings._llm
    Settings.llm = _llm(emu, model)  # what a component builds on its own (a condenser, a summarizer) uses it too
    try:
        answer = await run(_llm(emu, model), index)
    finally:
        Settings._llm = previous
    assert expected in answer
