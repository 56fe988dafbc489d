"""The product on every relay profile x {Claude, Gemini, GPT} x {LangChain, LlamaIndex}.

Each relay profile of the emulator (``docs``, ``one-api``, ``new-api-2412``, ``new-api``) behaves as that
relay's code does (see ``b3n.testing.relays``). Agents finish a two-tool task, structured output comes
back parsed, streams carry usage (estimated where the relay sends none) and the requested model name.
The request counts show what each adaptation costs: nothing where the relay behaves, one extra request
the first time where it does not (remembered for the base URL and model), and none after.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from llama_index.core.agent.workflow import FunctionAgent, ReActAgent, ToolCallResult
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, Field

from b3n._chat import relay
from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from llama_index_b3n import B3n
from tests.conftest import RELAY_PROFILES
from tests.framework_inputs import add, multiply
from tests.langchain_tools import TASK, Joke, get_weather, magic_function


def _chat(emu: Emulator) -> list[Any]:
    """The chat requests the emulator received (other routes, e.g. the price list, left out)."""
    return [r for r in emu.requests if r.route.endswith("/chat/completions")]

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

MODELS = {"claude": "claude-3-5-sonnet-latest", "gemini": "gemini-1.5-flash-latest", "gpt": "gpt-4o-mini"}
FAMILIES = list(MODELS)
#: relays whose Gemini translation loses parallel calls and cannot carry tool turns
OLD_GEMINI = {"one-api", "new-api-2412"}


class Report(BaseModel):
    """The final report for the user."""

    magic_value: int = Field(description="What the magic function returned.")
    weather: str = Field(description="The weather, as reported by the weather tool.")


@pytest.fixture
def emu(relay_servers: dict[str, Emulator], request: pytest.FixtureRequest) -> Emulator:
    server = relay_servers[request.node.callspec.params["profile"]]
    server.reset()
    relay.MEMORY.forget()  # every case starts as a fresh process would
    return server


def _llm(emu: Emulator, family: str, **kw: Any) -> ChatB3n:
    return ChatB3n(model=MODELS[family], api_key="sk-test", base_url=emu.base_url, **kw)


def _agent_requests(profile: str, family: str, *, stream: bool) -> int:
    """Chat requests of the two-tool agent task, the first time in a process."""
    if family != "gemini" or profile not in OLD_GEMINI:
        return 2  # both calls in one reply, then the answer
    # one call per reply (first call only) + the refused tool turn re-sent as text once
    extra_stream = 1 if stream and profile == "one-api" else 0  # the empty stream, then one whole call
    return 4 + extra_stream


def _check_transcript(messages: list[BaseMessage]) -> None:
    results = {m.name: m.content for m in messages if isinstance(m, ToolMessage)}
    assert results == {"magic_function": "5", "get_weather": "It is sunny and 21 degrees in Paris."}
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert "5" in final.text and "sunny" in final.text


# ------------------------------------------------------------------------------------------ LangChain agents


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
def test_langchain_create_agent_invoke(emu: Emulator, profile: str, family: str) -> None:
    out = create_agent(_llm(emu, family), [magic_function, get_weather]).invoke({"messages": [("user", TASK)]})
    _check_transcript(out["messages"])
    assert emu.count("chat") == _agent_requests(profile, family, stream=False)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
def test_langchain_create_agent_stream(emu: Emulator, profile: str, family: str) -> None:
    agent = create_agent(_llm(emu, family), [magic_function, get_weather])
    chunks = [m for m, _ in agent.stream({"messages": [("user", TASK)]}, stream_mode="messages")
              if isinstance(m, AIMessageChunk)]
    text = "".join(c.text for c in chunks)
    assert "sunny" in text and "5" in text
    assert sum(1 for c in chunks for t in c.tool_call_chunks if t.get("name")) == 2  # both calls seen in the stream
    assert emu.count("chat") == _agent_requests(profile, family, stream=True)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
async def test_langgraph_react_agent_astream(emu: Emulator, profile: str, family: str) -> None:
    from langgraph.prebuilt import create_react_agent

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        agent = create_react_agent(_llm(emu, family, streaming=True), [magic_function, get_weather])
    messages: list[BaseMessage] = []
    async for update in agent.astream({"messages": [("user", TASK)]}, stream_mode="updates"):
        for node in update.values():
            messages.extend((node or {}).get("messages", []))
    _check_transcript(messages)


# ------------------------------------------------------------------------------------------ LlamaIndex agents


LI_TASK = "Use the multiply tool to multiply 3 and 4, and use the add tool to add 3 and 4."


async def _run(agent: Any) -> tuple[str, list[ToolCallResult]]:
    handler = agent.run(LI_TASK)
    results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    return str(await handler), results


@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "invoke"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
async def test_llamaindex_function_agent(emu: Emulator, profile: str, family: str, streaming: bool) -> None:
    llm = B3n(model=MODELS[family], api_key="sk-test", api_base=emu.base_url)
    answer, results = await _run(FunctionAgent(tools=[multiply, add], llm=llm, streaming=streaming))
    assert sorted((r.tool_name, r.tool_output.content) for r in results) == [("add", "7"), ("multiply", "12")]
    assert "12" in answer and "7" in answer
    assert emu.count("chat") == _agent_requests(profile, family, stream=streaming)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
async def test_llamaindex_react_agent(emu: Emulator, profile: str, family: str) -> None:
    llm = B3n(model=MODELS[family], api_key="sk-test", api_base=emu.base_url)
    answer, results = await _run(ReActAgent(tools=[multiply, add], llm=llm, streaming=True))
    assert sorted((r.tool_name, r.tool_output.content) for r in results) == [("add", "7"), ("multiply", "12")]
    assert "12" in answer and "7" in answer


# ------------------------------------------------------------------------------------------ structured output


def _structured_requests(profile: str, family: str, *, named: bool) -> int:
    """Requests for one structured answer: 2 when the relay did not pass the forcing on (one corrective call)."""
    if family == "gpt" or profile == "docs":
        return 1
    if family == "claude" and profile == "one-api" and named:
        return 1  # one-api keeps a named tool_choice for Claude
    return 2


JOKE = Joke(setup="Why did the cat sit on the computer?", punchline="To keep an eye on the mouse.")


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
def test_langchain_with_structured_output(emu: Emulator, profile: str, family: str) -> None:
    runnable = _llm(emu, family).with_structured_output(Joke)
    assert runnable.invoke("Tell me a joke about cats") == JOKE
    assert emu.count("chat") == _structured_requests(profile, family, named=True)
    emu.reset()
    assert list(runnable.stream("Tell me a joke about cats"))[-1] == JOKE  # stream agrees with invoke


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
def test_llamaindex_structured_predict(emu: Emulator, profile: str, family: str) -> None:
    llm = B3n(model=MODELS[family], api_key="sk-test", api_base=emu.base_url)
    joke = llm.structured_predict(Joke, PromptTemplate("Tell me a joke about {topic}"), topic="cats")
    assert joke == JOKE


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
def test_langchain_agent_response_format(emu: Emulator, profile: str, family: str) -> None:
    agent = create_agent(_llm(emu, family), [magic_function, get_weather], response_format=Report)
    out = agent.invoke({"messages": [("user", TASK)]})
    assert out["structured_response"] == Report(magic_value=5, weather="It is sunny and 21 degrees in Paris.")


# ------------------------------------------------------------------------------------------ replies and streams


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
def test_langchain_stream_usage_model_and_finish(emu: Emulator, profile: str, family: str) -> None:
    llm = _llm(emu, family)
    whole = llm.invoke("say 1")
    merged: Any = None
    for chunk in llm.stream("say 1"):
        merged = chunk if merged is None else merged + chunk
    assert whole.text == merged.text == "1"
    for message in (whole, merged):
        assert message.response_metadata["model_name"].startswith(MODELS[family])  # never "", "gemini"
        assert message.response_metadata["finish_reason"] == "stop"
        assert message.usage_metadata is not None and message.usage_metadata["total_tokens"] > 0
    relay_sends_none = profile == "one-api" and family != "gpt"
    assert merged.response_metadata.get("usage_estimated", False) is relay_sends_none


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", RELAY_PROFILES)
def test_llamaindex_stream_usage_model_and_finish(emu: Emulator, profile: str, family: str) -> None:
    llm = B3n(model=MODELS[family], api_key="sk-test", api_base=emu.base_url)
    whole = llm.chat([ChatMessage(role="user", content="say 1")])
    chunks = list(llm.stream_chat([ChatMessage(role="user", content="say 1")]))
    last = chunks[-1]
    assert whole.message.content == last.message.content == "1"
    assert last.additional_kwargs["total_tokens"] > 0
    assert last.additional_kwargs.get("usage_estimated", False) is (profile == "one-api" and family != "gpt")


def test_learned_adaptation_costs_one_request_once(relay_servers: dict[str, Emulator]) -> None:
    emu = relay_servers["new-api-2412"]
    emu.reset()
    relay.MEMORY.forget()
    agent = create_agent(_llm(emu, "gemini"), [magic_function, get_weather])
    _check_transcript(agent.invoke({"messages": [("user", TASK)]})["messages"])
    first = [r.status for r in _chat(emu)]
    assert first == [200, 400, 200, 200]  # the untranslated tool turn is refused once, then re-sent as text
    emu.reset()
    _check_transcript(agent.invoke({"messages": [("user", TASK)]})["messages"])
    assert [r.status for r in _chat(emu)] == [200, 200, 200]  # remembered: no failing request


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
@pytest.mark.parametrize("profile", ["one-api", "new-api"])
def test_claude_tool_turn_without_text_is_sent_with_text(emu: Emulator, profile: str, framework: str) -> None:
    """A tool-call turn with no text (as GPT-style histories have) would lose its calls or be refused (400)."""
    call = {"id": "toolu_01abc", "type": "function", "function": {"name": "magic_function", "arguments": '{"input": 3}'}}
    if framework == "langchain":
        from langchain_core.messages import HumanMessage

        history: list[Any] = [
            HumanMessage("What is magic_function(3)?"),
            AIMessage(content="", tool_calls=[{"name": "magic_function", "args": {"input": 3}, "id": "toolu_01abc"}]),
            ToolMessage(content="5", tool_call_id="toolu_01abc"),
        ]
        answer = _llm(emu, "claude").bind_tools([magic_function]).invoke(history).text
    else:
        li = B3n(model=MODELS["claude"], api_key="sk-test", api_base=emu.base_url)
        answer = str(li.chat([
            ChatMessage(role="user", content="What is magic_function(3)?"),
            ChatMessage(role="assistant", content=None, additional_kwargs={"tool_calls": [call]}),
            ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": "toolu_01abc"}),
        ]).message.content)
    assert "5" in answer
    sent = emu.last_request("chat").json  # type: ignore[union-attr]
    turn = next(m for m in sent["messages"] if m["role"] == "assistant")
    assert turn["tool_calls"] and turn["content"]  # never null or "": both relays would lose the turn
    assert [r.status for r in _chat(emu)] == [200]
