"""ChatB3n end to end against the emulator (quirks on): one named test per relay breakage
(anchors.md §4.2-4.4 and b3n-api.md §4.2), the async twins, request adaptation, and errors.

Each test checks both what LangChain users see and what went over the wire
(``emulator.last_request("chat").json``).
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from b3n import _errors as e
from b3n._errors import B3nAdaptationWarning
from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from langchain_b3n._messages import TOOL_CALL_EXTRAS
from langchain_b3n.errors import B3nStructuredOutputWarning
from tests.langchain_tools import magic_function

GPT, CLAUDE, GEMINI, O1 = "gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "o1-mini"
TOOL_MODELS = [GPT, CLAUDE, GEMINI]
MAGIC = "What is the value of magic_function(3)? Use the tool."


@tool
def get_weather(location: str) -> str:
    """Get the current weather at a location."""
    return f"It is sunny in {location}."


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


@pytest.fixture
def make(base_url: str, api_key: str) -> Any:
    def factory(model: str = GPT, **kwargs: Any) -> ChatB3n:
        return ChatB3n(model=model, api_key=api_key, base_url=base_url, **kwargs)

    return factory


def _payload(emulator: Emulator) -> dict[str, Any]:
    rec = emulator.last_request("chat")
    assert rec is not None
    assert isinstance(rec.json, dict)
    return rec.json


def _collect(chunks: Any) -> tuple[AIMessageChunk, list[AIMessageChunk]]:
    seen = list(chunks)
    full = seen[0]
    for c in seen[1:]:
        full = full + c
    return full, seen


# ----------------------------------------------------------------------------- basics and twins


@pytest.mark.parametrize("model", [GPT, CLAUDE, GEMINI, O1])
async def test_async_twins(make: Any, model: str) -> None:
    llm = make(model)
    msg = await llm.ainvoke("say 1")
    assert msg.content == "1"
    full, _ = _collect([c async for c in llm.astream("say 2")])
    assert full.content == "2"
    assert full.usage_metadata is not None
    replies = await llm.abatch(["say 3", "say 4"])
    assert [r.content for r in replies] == ["3", "4"]


async def test_async_calls_run_concurrently_on_one_shared_client(make: Any, emulator: Emulator) -> None:
    emulator.latency = 0.2
    llm = make(GPT)
    started = asyncio.get_running_loop().time()
    replies = await asyncio.gather(*(llm.ainvoke(f"say {i}") for i in range(5)))
    assert [r.content for r in replies] == [str(i) for i in range(5)]
    assert asyncio.get_running_loop().time() - started < 0.8
    assert llm._b3n_async_client is not None


def test_one_client_per_instance_and_shared_pool(make: Any) -> None:
    a, b = make(GPT), make(CLAUDE)
    a.invoke("say 1")
    client = a.client
    a.invoke("say 2")
    b.invoke("say 3")
    assert a.client is client
    assert a.client.transport.client is b.client.transport.client  # one connection pool per process


def test_streaming_true_makes_invoke_stream(make: Any, emulator: Emulator) -> None:
    tokens: list[str] = []

    class Recorder(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            tokens.append(token)

    msg = make(GPT, streaming=True).invoke("Tell me about cats", config={"callbacks": [Recorder()]})
    payload = _payload(emulator)
    assert payload["stream"] is True
    assert payload["stream_options"] == {"include_usage": True}
    assert "".join(tokens) == msg.content
    assert len(tokens) > 2
    assert msg.usage_metadata is not None and msg.usage_metadata["input_tokens"] > 0
    assert msg.response_metadata["model_name"].startswith("gpt-4o-mini")


def test_stream_usage_false_sends_no_stream_options(make: Any, emulator: Emulator) -> None:
    full, _ = _collect(make(GPT, stream_usage=False).stream("Hello"))
    assert "stream_options" not in _payload(emulator)
    assert full.usage_metadata is None
    assert full.response_metadata["finish_reason"] == "stop"
    full, _ = _collect(make(GPT).stream("Hello", stream_usage=False))
    assert "stream_options" not in _payload(emulator)


def test_per_call_model_stop_and_name_reach_the_payload(make: Any, emulator: Emulator) -> None:
    llm = make(GPT, temperature=0.3, max_tokens=50, top_p=0.9, seed=7)
    msg = llm.invoke([HumanMessage("hi there you", name="example_user")], model="gpt-4o", stop=["you"])
    payload = _payload(emulator)
    assert payload["model"] == "gpt-4o"
    assert payload["stop"] == ["you"]
    assert payload["messages"] == [{"role": "user", "content": "hi there you", "name": "example_user"}]
    assert (payload["temperature"], payload["max_tokens"], payload["top_p"], payload["seed"]) == (0.3, 50, 0.9, 7)
    assert "gpt-4o" in msg.response_metadata["model_name"]


def test_model_kwargs_and_openai_fields_are_sent(make: Any, emulator: Emulator) -> None:
    llm = make(GPT, presence_penalty=0.5, model_kwargs={"user": "u-1"})
    llm.invoke("hi")
    payload = _payload(emulator)
    assert payload["presence_penalty"] == 0.5
    assert payload["user"] == "u-1"


# ----------------------------------------------------------------------------- metadata and usage


@pytest.mark.parametrize("model", [GEMINI, "gemini-1.5-pro-latest"])
def test_model_name_falls_back_to_the_requested_model(make: Any, model: str) -> None:
    """Gemini answers with no ``model`` key (flash) or ``""`` (pro), and ``""`` in streams."""
    llm = make(model)
    assert llm.invoke("say 1").response_metadata["model_name"] == model
    full, _ = _collect(llm.stream("say 1"))
    assert full.response_metadata["model_name"] == model
    assert full.content == "1"  # trailing " \n" dropped


@pytest.mark.parametrize("model", [GPT, CLAUDE, GEMINI, O1])
def test_usage_and_metadata_on_exactly_one_stream_chunk(make: Any, model: str) -> None:
    full, chunks = _collect(make(model).stream("Write me 2 haikus."))
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    assert [c for c in chunks if "model_name" in c.response_metadata] == with_usage
    assert full.usage_metadata is not None
    assert (
        full.usage_metadata["total_tokens"]
        == full.usage_metadata["input_tokens"] + full.usage_metadata["output_tokens"]
    )
    assert full.response_metadata["model_provider"] == "b3n"
    assert full.response_metadata["finish_reason"] == "stop"
    assert model.split("-latest")[0] in full.response_metadata["model_name"]
    assert full.chunk_position == "last"


def test_invoke_metadata(make: Any) -> None:
    msg = make(GPT).invoke("Hello")
    meta = msg.response_metadata
    assert meta["model_provider"] == "b3n"
    assert meta["finish_reason"] == "stop"
    assert meta["id"].startswith("chatcmpl-") and msg.id == meta["id"]
    assert meta["system_fingerprint"].startswith("fp_")
    assert meta["token_usage"]["total_tokens"] == msg.usage_metadata["total_tokens"]  # type: ignore[index]


def test_claude_opus_thinking_becomes_reasoning_content(make: Any) -> None:
    llm = make("claude-3-opus-latest")
    msg = llm.invoke("say 1")
    assert msg.content == "1"
    assert "The user asks" in msg.additional_kwargs["reasoning_content"]
    assert [b["type"] for b in msg.content_blocks] == ["reasoning", "text"]
    full, _ = _collect(llm.stream("say 1"))
    assert full.content == "1"
    assert "The user asks" in full.additional_kwargs["reasoning_content"]


def test_o1_adaptation_and_reasoning_tokens(make: Any, emulator: Emulator) -> None:
    llm = make(O1, temperature=0.2, max_tokens=300)
    with pytest.warns(B3nAdaptationWarning, match="temperature"):
        msg = llm.invoke([SystemMessage("Be terse."), HumanMessage("say 1")])
    payload = _payload(emulator)
    assert [m["role"] for m in payload["messages"]] == ["user"]
    assert payload["messages"][0]["content"].startswith("Be terse.")
    assert "temperature" not in payload and "max_tokens" not in payload
    assert payload["max_completion_tokens"] == 300
    assert "say 1" in msg.content  # the scripted model saw the folded system text first
    assert msg.usage_metadata is not None
    assert msg.usage_metadata["output_token_details"]["reasoning"] > 0  # type: ignore[typeddict-item]
    with pytest.warns(B3nAdaptationWarning):
        full, chunks = _collect(llm.stream("say 2"))
    assert "stream" not in _payload(emulator)  # served from one call
    assert full.content == "2"
    assert sum(1 for c in chunks if c.usage_metadata) == 1


# ----------------------------------------------------------------------------- tool calling quirks


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_tool_choice_any_is_sent_as_required(make: Any, emulator: Emulator, model: str) -> None:
    msg = make(model).bind_tools([magic_function, get_weather], tool_choice="any").invoke("Hello!")
    assert _payload(emulator)["tool_choice"] == "required"
    assert msg.tool_calls
    named = make(model).bind_tools([magic_function, get_weather], tool_choice="get_weather").invoke("Hello!")
    assert _payload(emulator)["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert named.tool_calls[0]["name"] == "get_weather"


def test_parallel_tool_calls_only_when_set(make: Any, emulator: Emulator) -> None:
    make(GPT).bind_tools([magic_function]).invoke(MAGIC)
    assert "parallel_tool_calls" not in _payload(emulator)
    make(GPT).bind_tools([magic_function], parallel_tool_calls=False).invoke(MAGIC)
    assert _payload(emulator)["parallel_tool_calls"] is False
    # the relay rejects/ignores the field for Claude and Gemini: never forwarded there
    for model in (CLAUDE, GEMINI):
        make(model).bind_tools([magic_function], parallel_tool_calls=False).invoke(MAGIC)
        assert "parallel_tool_calls" not in _payload(emulator)
    # with_structured_output does not force it either
    make(GPT).with_structured_output(Joke, method="function_calling").invoke("Tell me a joke about cats.")
    assert "parallel_tool_calls" not in _payload(emulator)


def test_claude_duplicate_index_choices_merge_text_and_calls(make: Any) -> None:
    msg = make(CLAUDE).bind_tools([magic_function]).invoke(MAGIC)
    assert msg.content  # the text choice ("I'll use ...") is kept
    assert [(c["name"], c["args"]) for c in msg.tool_calls] == [("magic_function", {"input": 3})]
    assert msg.tool_calls[0]["id"].startswith("toolu_")
    assert msg.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("v1", [False, True])
def test_claude_stream_index_less_fragments(make: Any, v1: bool) -> None:
    llm = make(CLAUDE, output_version="v1") if v1 else make(CLAUDE)
    full, _ = _collect(llm.bind_tools([magic_function]).stream(MAGIC))
    assert [(c["name"], c["args"]) for c in full.tool_calls] == [("magic_function", {"input": 3})]
    assert full.text
    assert [b["type"] for b in full.content_blocks] == ["text", "tool_call"]


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_finish_reason_stop_with_tool_calls(make: Any, stream: bool) -> None:
    bound = make(GEMINI).bind_tools([magic_function])
    msg = _collect(bound.stream(MAGIC))[0] if stream else bound.invoke(MAGIC)
    assert msg.response_metadata["finish_reason"] == "tool_calls"
    assert [(c["name"], c["args"]) for c in msg.tool_calls] == [("magic_function", {"input": 3})]


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_several_calls_in_one_turn(make: Any, model: str) -> None:
    """Gemini sends both whole calls in one index-less delta; OpenAI/Claude fragment them."""
    prompt = "Use the tools: what is magic_function(3), and what is the weather in 'Paris'?"
    bound = make(model).bind_tools([magic_function, get_weather])
    for msg in (bound.invoke(prompt), _collect(bound.stream(prompt))[0]):
        calls = sorted((c["name"], c["args"]) for c in msg.tool_calls)
        assert calls == [("get_weather", {"location": "Paris"}), ("magic_function", {"input": 3})]
        assert len({c["id"] for c in msg.tool_calls}) == 2
        assert msg.invalid_tool_calls == []


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_no_argument_tool_calls_parse_to_empty_args(make: Any, model: str) -> None:
    @tool
    def magic_function_no_args() -> int:
        """Calculate a magic function."""
        return 5

    bound = make(model).bind_tools([magic_function_no_args], tool_choice="any")
    prompt = "What is the value of magic_function_no_args()? Use the tool."
    for msg in (bound.invoke(prompt), _collect(bound.stream(prompt))[0]):
        assert [(c["name"], c["args"]) for c in msg.tool_calls] == [("magic_function_no_args", {})]


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_unicode_arguments_round_trip(make: Any, emulator: Emulator, model: str) -> None:
    @tool
    def unicode_customer(customer_name: str, description: str) -> str:
        """Create a customer with a unicode name."""
        return customer_name

    bound = make(model).bind_tools([unicode_customer], tool_choice="any")
    msg = bound.invoke("Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company")
    assert "你好啊集团" in msg.tool_calls[0]["args"]["customer_name"]
    bound.invoke([HumanMessage("again"), msg, ToolMessage("ok", tool_call_id=msg.tool_calls[0]["id"])])
    rec = emulator.last_request("chat")
    assert rec is not None
    assert "你好啊集团" in rec.json["messages"][1]["tool_calls"][0]["function"]["arguments"]


@pytest.mark.parametrize("model", TOOL_MODELS)
def test_tool_history_string_list_and_error_status(make: Any, emulator: Emulator, model: str) -> None:
    calls = [{"name": "magic_function", "args": {"input": 3}, "id": "abc123"}]
    histories: list[list[BaseMessage]] = [
        [HumanMessage(MAGIC), AIMessage("", tool_calls=calls), ToolMessage("5", tool_call_id="abc123")],
        [
            HumanMessage(MAGIC),
            AIMessage(
                [
                    {"type": "text", "text": "some text"},
                    {"type": "tool_use", "id": "abc123", "name": "magic_function", "input": {"input": 3}},
                ],
                tool_calls=calls,
            ),
            ToolMessage([{"type": "text", "text": "5"}], tool_call_id="abc123", status="error"),
        ],
    ]
    for history in histories:
        reply = make(model).bind_tools([magic_function]).invoke(history)
        assert "5" in reply.text
        sent = _payload(emulator)["messages"]
        assert sent[2] == {"role": "tool", "tool_call_id": "abc123", "content": "5"}
        assert all(not isinstance(m["content"], list) for m in sent[1:])


def test_empty_text_parts_are_never_sent_to_claude(make: Any, emulator: Emulator) -> None:
    """The Claude relay answers 400 "text content blocks must be non-empty" to an empty text part."""
    blocks = [{"type": "text", "text": ""}, {"type": "text", "text": "say 7"}, {"type": "text", "text": ""}]
    msg = make(CLAUDE).invoke([HumanMessage(content=blocks)])
    assert msg.content == "7"
    assert _payload(emulator)["messages"] == [{"role": "user", "content": "say 7"}]


def test_thought_signature_is_echoed_on_the_wire(make: Any, emulator: Emulator) -> None:
    extra = {"extra_content": {"google": {"thought_signature": "c2lnLTE="}}}
    ai = AIMessage(
        "",
        tool_calls=[{"name": "magic_function", "args": {"input": 3}, "id": "call_a"}],
        additional_kwargs={TOOL_CALL_EXTRAS: {"call_a": extra}},
    )
    make(GEMINI).bind_tools([magic_function]).invoke([HumanMessage(MAGIC), ai, ToolMessage("5", tool_call_id="call_a")])
    call = _payload(emulator)["messages"][1]["tool_calls"][0]
    assert call["extra_content"] == extra["extra_content"]
    assert call["id"] == "call_a"


def test_tools_on_a_model_without_tools_fail_before_any_request(make: Any, emulator: Emulator) -> None:
    with pytest.raises(e.B3nInvalidRequestError, match="tool calling") as info:
        make(O1).bind_tools([magic_function]).invoke(MAGIC)
    assert isinstance(info.value, ModelInvalidRequestError)
    assert emulator.count("chat") == 0


# ----------------------------------------------------------------------------- structured output


@pytest.mark.parametrize(("model", "method"), [(GPT, "json_schema"), (CLAUDE, "tools"), (GEMINI, "tools")])
@pytest.mark.parametrize("stream", [False, True])
def test_structured_output_default_per_family(
    make: Any, emulator: Emulator, model: str, method: str, stream: bool
) -> None:
    runnable = make(model).with_structured_output(Joke)
    if stream:
        chunks = list(runnable.stream("Tell me a joke about cats."))
        assert chunks and all(isinstance(c, Joke) for c in chunks)
        joke = chunks[-1]
    else:
        joke = runnable.invoke("Tell me a joke about cats.")
    assert isinstance(joke, Joke) and joke.setup and joke.punchline
    payload = _payload(emulator)
    if method == "json_schema":
        assert payload["response_format"]["type"] == "json_schema"
        assert "tools" not in payload
    else:
        assert "response_format" not in payload
        assert payload["tool_choice"] == {"type": "function", "function": {"name": "Joke"}}


def test_structured_output_explicit_json_schema_on_claude_falls_back(make: Any, emulator: Emulator) -> None:
    with pytest.warns(B3nStructuredOutputWarning):
        runnable = make(CLAUDE).with_structured_output(Joke, method="json_schema")
    assert isinstance(runnable.invoke("Tell me a joke about cats."), Joke)
    assert "response_format" not in _payload(emulator)


@pytest.mark.parametrize("model", [GPT, CLAUDE])
def test_structured_output_include_raw_and_dict_schemas(make: Any, model: str) -> None:
    out = (
        make(model)
        .with_structured_output(Joke.model_json_schema(), include_raw=True)
        .invoke("Tell me a joke about cats.")
    )
    assert set(out) == {"raw", "parsed", "parsing_error"}
    assert isinstance(out["raw"], AIMessage)
    assert set(out["parsed"]) == {"setup", "punchline"}
    assert out["parsing_error"] is None


def test_structured_output_json_mode(make: Any, emulator: Emulator) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        joke = (
            make(GPT)
            .with_structured_output(Joke, method="json_mode")
            .invoke("Tell me a joke about cats. Return JSON with keys setup and punchline.")
        )
    assert isinstance(joke, Joke)
    assert _payload(emulator)["response_format"] == {"type": "json_object"}


# ----------------------------------------------------------------------------- errors


def test_retries_then_success(make: Any, emulator: Emulator) -> None:
    emulator.inject("rate_limit", times=1, retry_after=0)
    emulator.inject("server_error", times=1, status=502)
    assert make(GPT, max_retries=2).invoke("say 1").content == "1"
    assert emulator.count("chat") == 3


@pytest.mark.parametrize(
    ("kind", "b3n_type", "lc_type", "params"),
    [
        ("rate_limit", e.B3nRateLimitError, ModelRateLimitError, {"retry_after": 0}),
        ("server_error", e.B3nServerError, ModelAPIError, {"status": 503}),
        ("auth", e.B3nAuthenticationError, ModelAuthenticationError, {}),
        ("quota", e.B3nInsufficientQuotaError, ModelPermissionDeniedError, {}),
        ("model_unavailable", e.B3nModelNotAvailableError, ModelNotFoundError, {}),
    ],
)
@pytest.mark.parametrize("mode", ["invoke", "stream", "ainvoke", "astream"])
async def test_errors_are_hybrid(
    make: Any, emulator: Emulator, kind: str, b3n_type: type, lc_type: type, params: dict[str, Any], mode: str
) -> None:
    emulator.inject(kind, times=5, **params)
    llm = make(GPT, max_retries=1)
    with pytest.raises(b3n_type) as info:
        if mode == "invoke":
            llm.invoke("hi")
        elif mode == "stream":
            list(llm.stream("hi"))
        elif mode == "ainvoke":
            await llm.ainvoke("hi")
        else:
            [c async for c in llm.astream("hi")]
    assert isinstance(info.value, lc_type)
    assert "sk-test" not in str(info.value)


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_interrupted_stream_carries_the_partial_output(make: Any, emulator: Emulator, asynchronous: bool) -> None:
    emulator.inject("stream_cut", after=3)
    llm = make(GPT)
    received: list[AIMessageChunk] = []
    with pytest.raises(e.B3nStreamInterruptedError) as info:
        if asynchronous:
            async for chunk in llm.astream("Tell me a long story about cats and dogs"):
                received.append(chunk)
        else:
            for chunk in llm.stream("Tell me a long story about cats and dogs"):
                received.append(chunk)
    assert isinstance(info.value, ModelAPIError)
    assert info.value.partial is not None
    assert info.value.partial.content
    assert "".join(str(c.content) for c in received) == info.value.partial.content
    assert emulator.count("chat") == 1  # never retried once content arrived


# ----------------------------------------------------------------------------- transport settings


def test_stream_idle_timeout_raises_a_hybrid_timeout_with_partial(make: Any, emulator: Emulator) -> None:
    from langchain_core.exceptions import ModelTimeoutError

    from b3n._errors import B3nStreamTimeoutError

    emulator.inject("stall", after=2, delay=2.0)
    llm = make(GPT, stream_idle_timeout=0.3)
    with pytest.raises(B3nStreamTimeoutError) as info:
        list(llm.stream("Tell me a long story about cats and dogs"))
    assert isinstance(info.value, ModelTimeoutError)
    assert info.value.partial is not None and info.value.partial.content


def test_default_headers_and_auth_header(make: Any, emulator: Emulator, api_key: str) -> None:
    make(GPT, default_headers={"X-Trace": "abc"}).invoke("say 1")
    rec = emulator.last_request("chat")
    assert rec is not None
    headers = {k.lower(): v for k, v in rec.headers.items()}
    assert headers["x-trace"] == "abc"
    assert headers["authorization"] == f"Bearer {api_key}"


def test_user_http_clients_are_used(base_url: str, api_key: str) -> None:
    import httpx

    seen: list[str] = []

    def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async def ahook(request: httpx.Request) -> None:
        seen.append("async:" + request.url.path)

    llm = ChatB3n(
        api_key=api_key,
        base_url=base_url,
        http_client=httpx.Client(event_hooks={"request": [hook]}),
        http_async_client=httpx.AsyncClient(event_hooks={"request": [ahook]}),
    )
    assert llm.invoke("say 1").content == "1"
    assert asyncio.run(llm.ainvoke("say 2")).content == "2"
    assert seen == ["/v1/chat/completions", "async:/v1/chat/completions"]
