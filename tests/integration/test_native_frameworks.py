"""ChatB3n and LlamaIndex B3n on Claude's native route (``api_format="anthropic"``) against the new-api emulator.

The emulator refuses a thinking tool loop whose assistant turn lost its thinking block or whose signature changed
(as Anthropic does), so an agent that finishes three steps with thinking on has carried every signature back.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, DocumentBlock, TextBlock, ThinkingBlock
from llama_index.core.tools import FunctionTool

from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from langchain_b3n.errors import B3nLCBadRequestError
from llama_index_b3n import B3n
from tests.conftest import NATIVE_KEY as KEY
from tests.framework_inputs import add, multiply
from tests.langchain_tools import Joke
from tests.native_inputs import PDF_CANARY, b64, pdf, png

CLAUDE = "claude-3-5-sonnet-latest"
PROMPT = "What is 3 * 4? Then add 5 to the result."


@pytest.fixture
def emu(native_emulator: Emulator) -> Emulator:
    return native_emulator


def _native_bodies(emu: Emulator) -> list[dict[str, Any]]:
    return [r.json for r in emu.requests if r.route == "POST /v1/messages"]


def _check_signed_loop(emu: Emulator) -> None:
    """Three native calls; every assistant turn sent back starts with the thinking block issued for it."""
    bodies = _native_bodies(emu)
    assert len(bodies) == 3 and emu.count("chat") == 0
    assert all(b["thinking"]["type"] == "enabled" for b in bodies)
    turns = [m for m in bodies[-1]["messages"] if m["role"] == "assistant"]
    assert [[b["type"] for b in t["content"]] for t in turns] == [["thinking", "tool_use"], ["thinking", "tool_use"]]
    assert all(t["content"][0]["signature"] for t in turns)
    assert turns[0]["content"][0] in [m["content"][0] for m in bodies[1]["messages"] if m["role"] == "assistant"]


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_langchain_three_step_agent_keeps_thinking_signatures(emu: Emulator, stream: bool) -> None:
    llm = ChatB3n(model=CLAUDE, api_key=KEY, base_url=emu.base_url, api_format="anthropic", thinking_budget=1024,
                  streaming=stream)
    out = create_agent(llm, [tool(multiply), tool(add)]).invoke({"messages": [("user", PROMPT)]})
    messages = out["messages"]
    assert [m.content for m in messages if isinstance(m, ToolMessage)] == ["12", "17"]
    final = messages[-1]
    assert isinstance(final, AIMessage) and "17" in final.text and not final.tool_calls
    assert final.response_metadata["api_format"] == "anthropic"
    thinking = [b for b in final.content if isinstance(b, dict) and b.get("type") == "thinking"]
    assert thinking and thinking[0]["signature"]
    _check_signed_loop(emu)


def test_langchain_dropping_the_thinking_block_is_refused(emu: Emulator) -> None:
    llm = ChatB3n(model=CLAUDE, api_key=KEY, base_url=emu.base_url, api_format="anthropic", thinking_budget=1024,
                  max_retries=0).bind_tools([multiply])
    first = llm.invoke([HumanMessage("Use the multiply tool to multiply 3 and 4.")])
    stripped = AIMessage(content="", tool_calls=first.tool_calls)  # what an OpenAI-format history would keep
    result = ToolMessage("12", tool_call_id=first.tool_calls[0]["id"])
    with pytest.raises(B3nLCBadRequestError, match="must start with a thinking block"):
        llm.invoke([HumanMessage("Use the multiply tool to multiply 3 and 4."), stripped, result])
    assert "12" in llm.invoke([HumanMessage("Use the multiply tool to multiply 3 and 4."), first, result]).text


def test_langchain_invoke_stream_batch_async_structured_and_usage(emu: Emulator) -> None:
    llm = ChatB3n(model=CLAUDE, api_key=KEY, base_url=emu.base_url, api_format="anthropic")
    reply = llm.invoke("say Grüße")
    assert reply.content == "Grüße" and reply.response_metadata["api_format"] == "anthropic"
    assert reply.usage_metadata and reply.usage_metadata["input_tokens"] > 0
    assert "".join(c.text for c in llm.stream("say one two three")) == "one two three"
    assert [m.content for m in llm.batch(["say a", "say b"])] == ["a", "b"]
    assert asyncio.run(llm.ainvoke("say async")).content == "async"
    joke = llm.with_structured_output(Joke).invoke("Tell me a joke about cats")
    assert isinstance(joke, Joke) and joke.punchline
    as_json = llm.with_structured_output(Joke, method="json_schema").invoke("Tell me a joke about cats")
    assert isinstance(as_json, Joke) and as_json.setup
    assert emu.count("chat") == 0


def test_langchain_cache_tokens_pdf_and_image_tool_results(emu: Emulator) -> None:
    llm = ChatB3n(model=CLAUDE, api_key=KEY, base_url=emu.base_url, api_format="anthropic")
    system = {"type": "text", "text": "House rules. " * 300, "cache_control": {"type": "ephemeral"}}
    ask = [("system", [system]), ("user", "say 1")]
    first, second = llm.invoke(ask), llm.invoke(ask)
    assert first.usage_metadata and second.usage_metadata
    written = first.usage_metadata["input_token_details"]["cache_creation"]
    assert written > 0 and second.usage_metadata["input_token_details"]["cache_read"] == written

    doc = HumanMessage([{"type": "text", "text": "Summarize this document:"},
                        {"type": "file", "base64": b64(pdf()), "mime_type": "application/pdf"}])
    assert PDF_CANARY in llm.invoke([doc]).text

    call = {"type": "tool_call", "id": "1", "name": "random_image", "args": {}}
    image = ToolMessage([{"type": "image", "base64": b64(png()), "mime_type": "image/png"}], tool_call_id="1")

    def random_image() -> str:
        """Return a random image."""
        return ""

    answer = llm.bind_tools([random_image]).invoke([HumanMessage("Describe a random diagram from the tool."),
                                                    AIMessage([], tool_calls=[call]), image])
    assert answer.text
    sent = _native_bodies(emu)[-1]["messages"][-1]["content"][0]
    assert sent["type"] == "tool_result" and sent["content"][0]["source"]["media_type"] == "image/png"


async def _run_agent(agent: FunctionAgent) -> str:
    return str(await agent.run(PROMPT))


@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
def test_llamaindex_three_step_agent_keeps_thinking_signatures(emu: Emulator, streaming: bool) -> None:
    llm = B3n(model=CLAUDE, api_key=KEY, api_base=emu.base_url, api_format="anthropic", thinking_budget=1024)
    tools = [FunctionTool.from_defaults(multiply), FunctionTool.from_defaults(add)]
    answer = asyncio.run(_run_agent(FunctionAgent(tools=tools, llm=llm, streaming=streaming)))
    assert "17" in answer
    _check_signed_loop(emu)


def test_llamaindex_thinking_blocks_documents_and_route(emu: Emulator) -> None:
    llm = B3n(model=CLAUDE, api_key=KEY, api_base=emu.base_url, api_format="anthropic", thinking_budget=1024)
    reply = llm.chat([ChatMessage(role="user", blocks=[
        DocumentBlock(data=pdf(), document_mimetype="application/pdf", title="q3.pdf"),
        TextBlock(text="Summarize this document:")])])
    assert PDF_CANARY in str(reply.message.content) and reply.additional_kwargs["api_format"] == "anthropic"
    thinking = [b for b in reply.message.blocks if isinstance(b, ThinkingBlock)]
    assert thinking and thinking[0].additional_information["signature"]
    assert _native_bodies(emu)[-1]["messages"][0]["content"][0]["type"] == "document"
    assert asyncio.run(llm.acomplete("say 1")).text == "1"


def test_auto_takes_the_native_route_after_b3n_probe(emu: Emulator, tmp_path: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from b3n import B3nClient
    from b3n._probe import probe

    monkeypatch.setenv("B3N_CACHE_DIR", str(tmp_path))
    lc = ChatB3n(model=CLAUDE, api_key=KEY, base_url=emu.base_url)  # api_format="auto"
    li = B3n(model=CLAUDE, api_key=KEY, api_base=emu.base_url)
    assert lc.invoke("say 1").response_metadata["api_format"] == "openai"
    probe(B3nClient(api_key=KEY, base_url=emu.base_url), [CLAUDE])
    fresh = ChatB3n(model=CLAUDE, api_key=KEY, base_url=emu.base_url)
    assert fresh.invoke("say 1").response_metadata["api_format"] == "anthropic"
    assert li.chat([ChatMessage(role="user", content="say 1")]).additional_kwargs["api_format"] == "anthropic"
    assert lc.invoke("say 1").response_metadata["api_format"] == "openai"  # kept for its conversation
