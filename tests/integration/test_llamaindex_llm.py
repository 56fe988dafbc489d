"""Contract tests of the LlamaIndex ``B3n`` LLM against the emulator over HTTP (quirks on).

Every public method, sync and async, streaming and not, for a GPT, a Claude, a Gemini and an
o1 model. The emulator is a deterministic scripted model, so exact answers are asserted.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

from b3n._errors import (
    B3nAuthenticationError,
    B3nConfigurationError,
    B3nInvalidRequestError,
    B3nStreamInterruptedError,
)
from b3n.testing import Emulator
from llama_index_b3n import B3n
from tests.framework_inputs import add, multiply
from tests.native_inputs import wav

GPT, CLAUDE, GEMINI, O1 = "gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "o1-mini"
MODELS = [GPT, CLAUDE, GEMINI, O1]
TOOL_MODELS = [GPT, CLAUDE, GEMINI]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
LONG_PROMPT = "Please repeat after me: the quick brown fox jumps over the lazy dog"


TOOLS = [FunctionTool.from_defaults(fn=multiply), FunctionTool.from_defaults(fn=add)]


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str = Field(description="The person's first name")
    age: int = Field(description="Age in years")


PERSON_PROMPT = PromptTemplate("Extract the person from this text: {text}")
PERSON_TEXT = "Alice is 30 years old."


@pytest.fixture
def make_llm(emulator: Emulator, api_key: str) -> Callable[..., B3n]:
    def make(model: str, **kwargs: Any) -> B3n:
        return B3n(model=model, api_key=api_key, api_base=emulator.base_url, **kwargs)

    return make


def _user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def _assert_usage(response: ChatResponse, model: str) -> None:
    extra = response.additional_kwargs
    assert extra["prompt_tokens"] > 0 and extra["completion_tokens"] > 0
    assert extra["total_tokens"] == extra["prompt_tokens"] + extra["completion_tokens"]
    assert extra["model"].startswith(model)
    assert response.raw["usage"]["total_tokens"] == extra["total_tokens"]  # what TokenCountingHandler reads
    if model == O1:
        assert extra["reasoning_tokens"] > 0


def _calls(llm: B3n, response: ChatResponse) -> list[tuple[str, dict[str, Any]]]:
    return [(c.tool_name, c.tool_kwargs) for c in llm.get_tool_calls_from_response(response)]


# ----------------------------------------------------------------------------- chat / complete


@pytest.mark.parametrize("model", MODELS)
def test_chat(make_llm: Callable[..., B3n], emulator: Emulator, model: str) -> None:
    llm = make_llm(model)
    response = llm.chat(_user("say 1"))
    assert response.message.role == "assistant"
    assert response.message.content == "1"
    assert response.additional_kwargs["finish_reason"] == "stop"
    _assert_usage(response, model)
    sent = emulator.last_request("chat")
    assert sent is not None and sent.headers["authorization"].startswith("Bearer sk-")
    assert emulator.count("chat") == 1


@pytest.mark.parametrize("model", MODELS)
def test_system_messages_reach_every_model(make_llm: Callable[..., B3n], emulator: Emulator, model: str) -> None:
    messages = [ChatMessage(role="system", content="You are terse."), ChatMessage(role="user", content="hi")]
    assert make_llm(model).chat(messages).message.content
    sent = emulator.last_request("chat").json["messages"]  # type: ignore[union-attr]
    if model == O1:  # no system role: folded into the first user turn by the core
        assert sent == [{"role": "user", "content": "You are terse.\n\nhi"}]
    else:
        assert sent == [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hi"}]


@pytest.mark.parametrize("model", MODELS)
async def test_achat(make_llm: Callable[..., B3n], model: str) -> None:
    response = await make_llm(model).achat(_user("say 1"))
    assert response.message.content == "1"
    _assert_usage(response, model)


def _check_stream(responses: list[ChatResponse], expected: str, model: str) -> None:
    assert len(responses) >= 2
    text = ""
    for r in responses:
        text += r.delta or ""
        assert r.message.content == text  # cumulative messages, delta = the increment
    assert text == expected
    assert responses[-1].additional_kwargs["finish_reason"] == "stop"
    _assert_usage(responses[-1], model)


@pytest.mark.parametrize("model", MODELS)
def test_stream_chat(make_llm: Callable[..., B3n], emulator: Emulator, model: str) -> None:
    llm = make_llm(model)
    expected = llm.chat(_user(LONG_PROMPT)).message.content
    responses = list(llm.stream_chat(_user(LONG_PROMPT)))
    _check_stream(responses, expected or "", model)
    sent = emulator.last_request("chat")
    assert sent is not None
    if model == O1:  # cannot stream upstream: served from one call
        assert "stream" not in sent.json
    else:
        assert sent.json["stream"] is True and sent.json["stream_options"] == {"include_usage": True}
        assert len(responses) > 3


@pytest.mark.parametrize("model", MODELS)
async def test_astream_chat(make_llm: Callable[..., B3n], model: str) -> None:
    llm = make_llm(model)
    expected = (await llm.achat(_user(LONG_PROMPT))).message.content
    responses = [r async for r in await llm.astream_chat(_user(LONG_PROMPT))]
    _check_stream(responses, expected or "", model)


@pytest.mark.parametrize("model", MODELS)
async def test_complete_family(make_llm: Callable[..., B3n], model: str) -> None:
    llm = make_llm(model)
    assert llm.complete("say hello world").text == "hello world"
    assert (await llm.acomplete("say hello world")).text == "hello world"
    streamed = list(llm.stream_complete(LONG_PROMPT))
    assert "".join(r.delta or "" for r in streamed) == streamed[-1].text
    assert streamed[-1].text.endswith("the lazy dog")
    astreamed = [r async for r in await llm.astream_complete(LONG_PROMPT)]
    assert astreamed[-1].text == streamed[-1].text
    assert streamed[-1].additional_kwargs["total_tokens"] > 0


def test_stream_usage_can_be_turned_off(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    responses = list(make_llm(GPT, stream_usage=False).stream_chat(_user("say 1")))
    assert "stream_options" not in emulator.last_request("chat").json  # type: ignore[union-attr]
    assert "total_tokens" not in responses[-1].additional_kwargs
    assert responses[-1].additional_kwargs["finish_reason"] == "stop"


def test_settings_are_sent(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    llm = make_llm(GPT, temperature=0.3, max_tokens=20, additional_kwargs={"seed": 3})
    llm.chat(_user("say 1"), top_p=0.5)
    body = emulator.last_request("chat").json  # type: ignore[union-attr]
    assert (body["temperature"], body["max_tokens"], body["seed"], body["top_p"]) == (0.3, 20, 3, 0.5)


def test_claude_thinking_becomes_a_thinking_block(make_llm: Callable[..., B3n]) -> None:
    llm = make_llm("claude-3-opus-latest")
    response = llm.chat(_user("say 1"))
    assert response.message.content == "1"
    thinking = [b for b in response.message.blocks if isinstance(b, ThinkingBlock)]
    assert thinking and "The user asks" in (thinking[0].content or "")
    streamed = list(llm.stream_chat(_user("say 1")))
    deltas = "".join(r.additional_kwargs.get("thinking_delta", "") for r in streamed)
    assert "The user asks" in deltas
    assert streamed[-1].message.content == "1"
    final_thinking = [b for b in streamed[-1].message.blocks if isinstance(b, ThinkingBlock)]
    assert final_thinking[0].content == deltas


# ----------------------------------------------------------------------------- images


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_image_inputs(make_llm: Callable[..., B3n], emulator: Emulator, model: str) -> None:
    msg = ChatMessage(role="user", blocks=[TextBlock(text="What is in this image?"), ImageBlock(image=PNG)])
    response = make_llm(model).chat([msg])
    assert f"I see 1 image (image/png, {len(PNG)} bytes)" in (response.message.content or "")
    part = emulator.last_request("chat").json["messages"][0]["content"][1]  # type: ignore[union-attr]
    assert part["image_url"]["url"].startswith("data:image/png;base64,")


def test_text_only_model_refuses_images_without_a_request(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    msg = ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), ImageBlock(image=PNG)])
    with pytest.raises(B3nInvalidRequestError, match="does not take image inputs"):
        make_llm(O1).chat([msg])
    assert emulator.count("chat") == 0


# ----------------------------------------------------------------------------- tools

MULTIPLY_PROMPT = "Use the multiply tool to multiply 3 and 4."
BOTH_PROMPT = "Use the multiply tool to multiply 3 and 4, and use the add tool to add 3 and 4."


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_chat_with_tools_and_round_trip(make_llm: Callable[..., B3n], emulator: Emulator, model: str) -> None:
    llm = make_llm(model)
    response = llm.chat_with_tools(TOOLS, user_msg=MULTIPLY_PROMPT, tool_required=True)
    assert _calls(llm, response) == [("multiply", {"a": 3, "b": 4})]
    assert emulator.last_request("chat").json["tool_choice"] == "required"  # type: ignore[union-attr]
    if model == CLAUDE:  # two choices with index 0: the text and the call are merged
        assert response.message.content == "I'll use the multiply tool to help with that."
    # the assistant message (ToolCallBlocks) and a tool result go back: the reply uses the result
    call = llm.get_tool_calls_from_response(response)[0]
    history = [
        ChatMessage(role="user", content=MULTIPLY_PROMPT),
        response.message,
        ChatMessage(role="tool", content="12", additional_kwargs={"tool_call_id": call.tool_id}),
    ]
    final = llm.chat_with_tools(TOOLS, chat_history=history)
    assert final.message.content == "The result of multiply is 12."
    assert llm.get_tool_calls_from_response(final, error_on_no_tool_call=False) == []


@pytest.mark.parametrize("model", TOOL_MODELS)
async def test_achat_with_tools(make_llm: Callable[..., B3n], model: str) -> None:
    llm = make_llm(model)
    response = await llm.achat_with_tools(TOOLS, user_msg=MULTIPLY_PROMPT, tool_required=True)
    assert _calls(llm, response) == [("multiply", {"a": 3, "b": 4})]


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_stream_chat_with_tools(make_llm: Callable[..., B3n], model: str) -> None:
    llm = make_llm(model)
    responses = list(llm.stream_chat_with_tools(TOOLS, user_msg=BOTH_PROMPT, allow_parallel_tool_calls=True))
    for r in responses:  # every partial response parses (partial JSON tolerated)
        llm.get_tool_calls_from_response(r, error_on_no_tool_call=False)
    final = responses[-1]
    assert _calls(llm, final) == [("multiply", {"a": 3, "b": 4}), ("add", {"a": 3, "b": 4})]
    assert final.additional_kwargs["finish_reason"] == "tool_calls"
    assert len({b.tool_call_id for b in final.message.blocks if isinstance(b, ToolCallBlock)}) == 2


@pytest.mark.parametrize("model", TOOL_MODELS)
async def test_astream_chat_with_tools(make_llm: Callable[..., B3n], model: str) -> None:
    llm = make_llm(model)
    gen = await llm.astream_chat_with_tools(TOOLS, user_msg=BOTH_PROMPT, allow_parallel_tool_calls=True)
    responses = [r async for r in gen]
    assert _calls(llm, responses[-1]) == [("multiply", {"a": 3, "b": 4}), ("add", {"a": 3, "b": 4})]


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_parallel_tool_calls_flag(make_llm: Callable[..., B3n], emulator: Emulator, model: str) -> None:
    llm = make_llm(model)
    both = llm.chat_with_tools(TOOLS, user_msg=BOTH_PROMPT, allow_parallel_tool_calls=True)
    assert [name for name, _ in _calls(llm, both)] == ["multiply", "add"]
    single = llm.chat_with_tools(TOOLS, user_msg=BOTH_PROMPT, allow_parallel_tool_calls=False)
    assert [name for name, _ in _calls(llm, single)] == ["multiply"]
    body = emulator.last_request("chat").json  # type: ignore[union-attr]
    if model == GPT:
        assert body["parallel_tool_calls"] is False
    else:  # the relay route rejects the field: the core does not send it, the adapter keeps one call
        assert "parallel_tool_calls" not in body


@pytest.mark.parametrize("model", TOOL_MODELS)
async def test_predict_and_call(make_llm: Callable[..., B3n], model: str) -> None:
    llm = make_llm(model)
    assert llm.predict_and_call(TOOLS, user_msg=MULTIPLY_PROMPT).response == "12"
    assert (await llm.apredict_and_call(TOOLS, user_msg=MULTIPLY_PROMPT)).response == "12"


async def test_o1_has_no_tools(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    llm = make_llm(O1)
    assert llm.metadata.is_function_calling_model is False
    with pytest.raises(B3nInvalidRequestError, match="does not support tool calling"):
        llm.chat_with_tools(TOOLS, user_msg=MULTIPLY_PROMPT)
    with pytest.raises(B3nInvalidRequestError, match="does not support tool calling"):
        await llm.achat_with_tools(TOOLS, user_msg=MULTIPLY_PROMPT)
    assert emulator.count("chat") == 0


# ----------------------------------------------------------------------------- structured output


def _check_person(person: Any) -> None:
    assert isinstance(person, Person)
    assert person.age == 30 and person.name


def _structured_request_shape(emulator: Emulator, model: str) -> None:
    body = emulator.last_request("chat").json  # type: ignore[union-attr]
    if model == GPT:  # json_schema where the model honours it
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["name"] == "Person"
        assert "tools" not in body
    elif model in (CLAUDE, GEMINI):  # they ignore response_format: function calling
        assert "response_format" not in body
        assert body["tools"][0]["function"]["name"] == "Person"
    else:  # o1: neither; the schema goes into the prompt
        assert "response_format" not in body and "tools" not in body


# o1 has neither tools nor response_format: LlamaIndex's text program puts the JSON schema into the prompt
# (brace-escaped as ``{{ ... }}`` by its PydanticOutputParser); the scripted model must answer with an instance.
@pytest.mark.parametrize("model", MODELS)
def test_structured_predict(make_llm: Callable[..., B3n], emulator: Emulator, model: str) -> None:
    llm = make_llm(model)
    _check_person(llm.structured_predict(Person, PERSON_PROMPT, text=PERSON_TEXT))
    _structured_request_shape(emulator, model)


@pytest.mark.parametrize("model", MODELS)
async def test_astructured_predict(make_llm: Callable[..., B3n], emulator: Emulator, model: str) -> None:
    _check_person(await make_llm(model).astructured_predict(Person, PERSON_PROMPT, text=PERSON_TEXT))
    _structured_request_shape(emulator, model)


@pytest.mark.parametrize("model", TOOL_MODELS)
async def test_stream_structured_predict(make_llm: Callable[..., B3n], model: str) -> None:
    llm = make_llm(model)
    parts = list(llm.stream_structured_predict(Person, PERSON_PROMPT, text=PERSON_TEXT))
    assert parts and parts[-1].age == 30 and parts[-1].name
    aparts = [p async for p in await llm.astream_structured_predict(Person, PERSON_PROMPT, text=PERSON_TEXT)]
    assert aparts[-1].age == 30
    sllm = llm.as_structured_llm(Person)
    streamed = list(sllm.stream_chat([ChatMessage(role="user", content=f"Extract the person: {PERSON_TEXT}")]))
    assert streamed[-1].raw.age == 30


@pytest.mark.parametrize("model", MODELS)
async def test_as_structured_llm(make_llm: Callable[..., B3n], model: str) -> None:
    sllm = make_llm(model).as_structured_llm(Person)
    messages = [ChatMessage(role="user", content=f"Extract the person from this text: {PERSON_TEXT}")]
    response = sllm.chat(messages)
    _check_person(response.raw)
    assert Person.model_validate_json(response.message.content or "") == response.raw
    _check_person((await sllm.achat(messages)).raw)


# ----------------------------------------------------------------------------- errors, faults, clients


def test_missing_key_fails_at_the_first_call(emulator: Emulator) -> None:
    llm = B3n(model=GPT, api_base=emulator.base_url)
    with pytest.raises(B3nConfigurationError, match="B3N_API_KEY"):
        llm.chat(_user("say 1"))
    assert emulator.count("chat") == 0


def test_rate_limit_is_retried(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    emulator.inject("rate_limit", retry_after=0)
    assert make_llm(GPT).chat(_user("say 1")).message.content == "1"
    assert emulator.count("chat") == 2


def test_auth_error_is_typed_and_not_retried(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    emulator.inject("auth")
    with pytest.raises(B3nAuthenticationError):
        make_llm(GPT).chat(_user("say 1"))
    assert emulator.count("chat") == 1


async def test_cut_stream_raises_with_the_partial_output(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    emulator.inject("stream_cut", after=4)
    received: list[ChatResponse] = []
    with pytest.raises(B3nStreamInterruptedError) as info:
        async for r in await make_llm(GPT).astream_chat(_user(LONG_PROMPT)):
            received.append(r)
    assert received and info.value.partial.content.startswith(received[-1].message.content or "")


def test_one_client_per_config_and_shared_pools(make_llm: Callable[..., B3n]) -> None:
    a, b = make_llm(GPT), make_llm(CLAUDE)
    a.chat(_user("say 1"))
    client = a.client
    assert a.client is client  # cached on the instance
    assert b.client.transport.client is client.transport.client  # one pool per process
    a.timeout = 5.0  # a config change builds a new client
    assert a.client is not client and a.client.config.timeout == 5.0


def _cache_point() -> Any:
    from llama_index.core.llms import CacheControl, CachePoint

    return CachePoint(cache_control=CacheControl(type="ephemeral"))


def test_cache_point_marks_the_block_right_before_it(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    llm = make_llm(CLAUDE)
    system = ChatMessage(role="system", blocks=[TextBlock(text="Rules: " + "be brief. " * 200), _cache_point(),
                                                TextBlock(text="Today is Monday.")])
    user = ChatMessage(role="user", blocks=[ImageBlock(image=PNG, image_mimetype="image/png"), _cache_point(),
                                            TextBlock(text="say 1"), TextBlock(text="ünïcode tail"), _cache_point()])
    llm.chat([system, user])
    sent = emulator.last_request("chat").json["messages"]  # type: ignore[union-attr]
    marks = [[("cache_control" in part) for part in message["content"]] for message in sent]
    assert marks == [[True, False], [True, False, True]]
    assert sent[1]["content"][2]["text"] == "ünïcode tail"


def test_cache_point_with_nothing_before_it_is_refused(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    llm = make_llm(CLAUDE)
    with pytest.raises(B3nInvalidRequestError, match="starts with a CachePoint"):
        llm.chat([ChatMessage(role="user", blocks=[_cache_point(), TextBlock(text="say 1")])])
    assert emulator.count("chat") == 0


PDF = b"%PDF-1.4\n% naive cafe\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("model", "pdf", "audio"),
    [(GPT, True, False), ("gpt-4o-audio-preview", False, True), ("gpt-4", False, False), (CLAUDE, False, False),
     (GEMINI, False, False)],
)
def test_documents_and_audio_are_sent_where_the_relay_forwards_them(
    make_llm: Callable[..., B3n], emulator: Emulator, model: str, pdf: bool, audio: bool
) -> None:
    from llama_index.core.base.llms.types import AudioBlock, DocumentBlock

    llm = make_llm(model)
    assert (llm.model_info.pdf_inputs, llm.model_info.audio_inputs) == (pdf, audio)  # what metadata says
    cases = [(DocumentBlock(data=PDF, title="café menu.pdf"), pdf, "file"),
             (AudioBlock(audio=wav(), format="wav"), audio, "input_audio")]
    for block, sent, kind in cases:
        emulator.reset()
        message = ChatMessage(role="user", blocks=[TextBlock(text="What is in this file?"), block])
        if not sent:
            with pytest.raises(B3nInvalidRequestError, match="does not take"):
                llm.chat([message])
            assert emulator.count("chat") == 0
            continue
        assert llm.chat([message]).message.content
        part = emulator.last_request("chat").json["messages"][0]["content"][1]  # type: ignore[index]
        assert part["type"] == kind
        if kind == "file":
            assert part["file"]["filename"] == "café menu.pdf"
            assert base64.b64decode(part["file"]["file_data"].split(",", 1)[1]) == PDF
        else:
            assert part["input_audio"]["format"] == "wav"
            assert base64.b64decode(part["input_audio"]["data"]) == wav()


def test_a_document_that_is_not_a_pdf_is_refused(make_llm: Callable[..., B3n], emulator: Emulator) -> None:
    from llama_index.core.base.llms.types import DocumentBlock

    block = DocumentBlock(data=b"plain words", document_mimetype="text/plain")
    with pytest.raises(B3nInvalidRequestError, match="PDF files only"):
        make_llm(GPT).chat([ChatMessage(role="user", blocks=[block])])
    assert emulator.count("chat") == 0
