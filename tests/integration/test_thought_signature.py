"""Gemini thought signatures round-trip through the core client and both framework adapters.

Gemini 3 signs every function call (``tool_calls[i].extra_content.google.thought_signature``) and
rejects, with 400 ``invalid_argument``, a follow-up request of the same turn whose assistant message
carries the call without its signature. The emulator does the same for the calls it signed (any
gemini-* model, quirks on). Each test runs a two-turn tool loop — call → tool result → answer —
against gemini-1.5-pro-latest and checks that the signature went back unchanged; the negative tests
show that the emulator really refuses a history without it, so the positive ones prove something.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from b3n import B3nClient
from b3n._chat import tool_call_to_wire
from b3n._errors import B3nBadRequestError
from b3n.testing import Emulator
from langchain_b3n import ChatB3n

MODEL = "gemini-1.5-pro-latest"
TASK = "Use the multiply tool to multiply 3 and 4."
MULTIPLY_SPEC = {
    "type": "function",
    "function": {
        "name": "multiply",
        "description": "Multiply two integers and return the product.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers and return the product."""
    return a * b


def _sent_calls(emulator: Emulator) -> list[dict[str, Any]]:
    """The assistant tool calls the client sent back on the last chat request."""
    rec = emulator.last_request("chat")
    assert rec is not None
    return [c for m in rec.json["messages"] if m["role"] == "assistant" for c in m.get("tool_calls") or []]


def _assert_round_trip(emulator: Emulator, calls: int = 1) -> None:
    sent = _sent_calls(emulator)
    assert len(sent) == calls
    for call in sent:
        signature = call["extra_content"]["google"]["thought_signature"]
        assert isinstance(signature, str) and len(signature) > 40
    assert all(r.status == 200 for r in emulator.requests), [r.status for r in emulator.requests]


# -- core client ------------------------------------------------------------------------------------
def _client(emulator: Emulator, api_key: str) -> B3nClient:
    return B3nClient(api_key=api_key, base_url=emulator.base_url)


def test_core_client_round_trip(emulator: Emulator, api_key: str) -> None:
    client = _client(emulator, api_key)
    messages: list[dict[str, Any]] = [{"role": "user", "content": TASK}]
    first = client.chat.create(MODEL, messages, tools=[MULTIPLY_SPEC])
    (call,) = first.tool_calls
    assert call.extra is not None and call.extra["extra_content"]["google"]["thought_signature"]
    messages.append({"role": "assistant", "content": None, "tool_calls": [call.to_wire()]})
    messages.append({"role": "tool", "tool_call_id": call.id, "content": str(multiply.invoke(call.parsed_arguments()))})
    second = client.chat.create(MODEL, messages, tools=[MULTIPLY_SPEC])
    assert second.content == "The result of multiply is 12."
    _assert_round_trip(emulator)


def test_core_client_stream_round_trip(emulator: Emulator, api_key: str) -> None:
    client = _client(emulator, api_key)
    messages: list[dict[str, Any]] = [{"role": "user", "content": TASK}]
    calls: dict[int, dict[str, Any]] = {}
    for chunk in client.chat.stream(MODEL, messages, tools=[MULTIPLY_SPEC]):
        for delta in chunk.tool_calls:
            if delta.id is not None:  # the first fragment of a call carries id, name and extras
                fn = {"name": delta.name, "arguments": ""}
                calls[delta.index] = {"id": delta.id, "type": "function", "function": fn, **(delta.extra or {})}
            calls[delta.index]["function"]["arguments"] += delta.arguments
    (wire,) = calls.values()
    assert wire["extra_content"]["google"]["thought_signature"]
    messages.append({"role": "assistant", "content": None, "tool_calls": [wire]})
    args = json.loads(wire["function"]["arguments"])
    messages.append({"role": "tool", "tool_call_id": wire["id"], "content": str(multiply.invoke(args))})
    answer = "".join(c.content for c in client.chat.stream(MODEL, messages, tools=[MULTIPLY_SPEC]))
    assert answer == "The result of multiply is 12."
    _assert_round_trip(emulator)


def _history_with(client: B3nClient, mutate: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": TASK}]
    (call,) = client.chat.create(MODEL, messages, tools=[MULTIPLY_SPEC]).tool_calls
    wire = call.to_wire()
    mutate(wire)
    messages.append({"role": "assistant", "content": None, "tool_calls": [wire]})
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "12"})
    return messages


def test_emulator_rejects_a_call_without_its_signature(emulator: Emulator, api_key: str) -> None:
    client = _client(emulator, api_key)
    messages = _history_with(client, lambda wire: wire.pop("extra_content"))
    with pytest.raises(B3nBadRequestError) as info:
        client.chat.create(MODEL, messages, tools=[MULTIPLY_SPEC])
    assert info.value.status_code == 400 and info.value.code == "invalid_argument"
    assert "missing a thought_signature" in str(info.value)
    with pytest.raises(B3nBadRequestError):  # streamed requests are checked too
        list(client.chat.stream(MODEL, messages, tools=[MULTIPLY_SPEC]))


def test_emulator_rejects_a_changed_signature(emulator: Emulator, api_key: str) -> None:
    client = _client(emulator, api_key)

    def corrupt(wire: dict[str, Any]) -> None:
        wire["extra_content"]["google"]["thought_signature"] = "Cs" + "A" * 60

    with pytest.raises(B3nBadRequestError, match="Corrupted thought signature"):
        client.chat.create(MODEL, _history_with(client, corrupt), tools=[MULTIPLY_SPEC])


def test_hand_written_histories_need_no_signature(emulator: Emulator, api_key: str) -> None:
    """Only call ids the emulator signed are checked; other ids (tests, imported transcripts) pass."""
    messages = [
        {"role": "user", "content": TASK},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [tool_call_to_wire("call_1", "multiply", {"a": 3, "b": 4})],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "12"},
    ]
    reply = _client(emulator, api_key).chat.create(MODEL, messages, tools=[MULTIPLY_SPEC])
    assert reply.content == "The result of multiply is 12."


# -- LangChain --------------------------------------------------------------------------------------
def _chat(emulator: Emulator, api_key: str, **kwargs: Any) -> Any:
    return ChatB3n(model=MODEL, api_key=api_key, base_url=emulator.base_url, **kwargs).bind_tools([multiply])


def _run_tools(message: AIMessage) -> list[ToolMessage]:
    return [multiply.invoke(call) for call in message.tool_calls]


def test_chatb3n_invoke_round_trip(emulator: Emulator, api_key: str) -> None:
    llm = _chat(emulator, api_key)
    messages: list[BaseMessage] = [HumanMessage(TASK)]
    ai = llm.invoke(messages)
    assert ai.tool_calls and ai.additional_kwargs["tool_call_extras"][ai.tool_calls[0]["id"]]
    messages += [ai, *_run_tools(ai)]
    final = llm.invoke(messages)
    assert final.text == "The result of multiply is 12."
    _assert_round_trip(emulator)


async def test_chatb3n_astream_round_trip(emulator: Emulator, api_key: str) -> None:
    llm = _chat(emulator, api_key)
    messages: list[BaseMessage] = [HumanMessage(TASK)]
    chunks = [chunk async for chunk in llm.astream(messages)]
    ai = chunks[0]
    for chunk in chunks[1:]:
        ai = ai + chunk
    assert isinstance(ai, AIMessageChunk) and ai.tool_calls
    messages += [ai, *_run_tools(ai)]
    final = "".join([c.text async for c in llm.astream(messages)])
    assert final == "The result of multiply is 12."
    _assert_round_trip(emulator)


def test_chatb3n_history_without_extras_is_rejected(emulator: Emulator, api_key: str) -> None:
    llm = _chat(emulator, api_key)
    ai = llm.invoke([HumanMessage(TASK)])
    stripped = AIMessage(content=ai.content, tool_calls=ai.tool_calls)  # e.g. a transcript store that drops them
    with pytest.raises(B3nBadRequestError, match="thought_signature"):
        llm.invoke([HumanMessage(TASK), stripped, *_run_tools(ai)])


def _agent(kind: str, emulator: Emulator, api_key: str) -> Any:
    llm = ChatB3n(model=MODEL, api_key=api_key, base_url=emulator.base_url)
    if kind == "create_agent":
        from langchain.agents import create_agent

        return create_agent(llm, [multiply])
    from langgraph.prebuilt import create_react_agent

    with warnings.catch_warnings():  # deprecated in LangGraph 1.x in favour of create_agent, still supported
        warnings.simplefilter("ignore", DeprecationWarning)
        return create_react_agent(llm, [multiply])


@pytest.mark.parametrize("kind", ["create_agent", "create_react_agent"])
def test_langchain_agent_invoke(emulator: Emulator, api_key: str, kind: str) -> None:
    out = _agent(kind, emulator, api_key).invoke({"messages": [("user", TASK)]})
    assert [m.content for m in out["messages"] if isinstance(m, ToolMessage)] == ["12"]
    assert out["messages"][-1].text == "The result of multiply is 12."
    _assert_round_trip(emulator)
    assert emulator.count("chat") == 2


@pytest.mark.parametrize("kind", ["create_agent", "create_react_agent"])
def test_langchain_agent_stream_messages(emulator: Emulator, api_key: str, kind: str) -> None:
    agent = _agent(kind, emulator, api_key)
    streamed = [m for m, _ in agent.stream({"messages": [("user", TASK)]}, stream_mode="messages")]
    assert any(isinstance(m, AIMessageChunk) and m.tool_call_chunks for m in streamed)
    assert "The result of multiply is 12." in "".join(m.text for m in streamed if isinstance(m, AIMessageChunk))
    _assert_round_trip(emulator)
    assert all(r.json.get("stream") is True for r in emulator.requests)


# -- LlamaIndex -------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect")
@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "blocking"])
async def test_llamaindex_function_agent(emulator: Emulator, api_key: str, streaming: bool) -> None:
    from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult

    from llama_index_b3n import B3n

    def multiply(a: int, b: int) -> int:
        """Multiply two integers and return the product."""
        return a * b

    llm = B3n(model=MODEL, api_key=api_key, api_base=emulator.base_url)
    agent = FunctionAgent(tools=[multiply], llm=llm, streaming=streaming)
    handler = agent.run(TASK)
    results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    answer = str(await handler)
    assert [(r.tool_name, r.tool_output.content) for r in results] == [("multiply", "12")]
    assert answer == "The result of multiply is 12."
    _assert_round_trip(emulator)
    assert emulator.count("chat") == 2
