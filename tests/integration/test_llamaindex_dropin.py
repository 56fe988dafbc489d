"""Drop-in rule for LlamaIndex: every argument of ``OpenAILike`` / ``OpenAIEmbedding`` is classified and checked.

The arguments are read from the installed anchor classes (their pydantic fields, constructor parameters and the
per-call arguments they honour: ``OpenAILike.chat(**kwargs)`` hands them to the openai SDK's
``chat.completions.create``). Each one is exactly one of:

- ``same``: the same request at the server and the same answer for the caller, checked here by running the
  anchor itself and ours against the emulator with that argument;
- ``documented``: a row in the "LlamaIndex: OpenAILike / OpenAIEmbedding" table of docs/coming-from-openai.md,
  and never a stray key in the body;
- ``refused``: a typed error (or a warning) that names it, with nothing sent.

An argument a new anchor release adds fails :func:`test_every_anchor_argument_is_classified` until it is
classified here.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import openai
import pytest
from llama_index.core.base.llms.types import ChatMessage, ToolCallBlock
from llama_index.core.callbacks import CallbackManager, CBEventType
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.prompts import PromptTemplate
from llama_index.core.rate_limiter import BaseRateLimiter
from llama_index.core.storage.kvstore import SimpleKVStore
from llama_index.core.tools import FunctionTool
from llama_index.core.types import PydanticProgramMode
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai_like import OpenAILike
from openai.resources.chat.completions import Completions
from pydantic import BaseModel

from b3n._errors import B3nError
from b3n.testing import Emulator
from llama_index_b3n import B3n, B3nEmbedding

Kind = Literal["same", "documented", "refused"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "coming-from-openai.md"
SECTION = "## LlamaIndex: OpenAILike / OpenAIEmbedding"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


TOOL = FunctionTool.from_defaults(fn=add)


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str
    age: int


@dataclass
class Case:
    kind: Kind
    value: Any = None
    #: which call compares the two: chat, stream, tools, predict, complete, structured, achat
    probe: str = "chat"
    #: other arguments both sides get for this case (e.g. a reasoning model for reasoning_effort)
    also: dict[str, Any] = field(default_factory=dict)


class CountingLimiter(BaseRateLimiter):
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self, num_tokens: int = 1) -> None:
        self.acquired += 1

    async def async_acquire(self, num_tokens: int = 1) -> None:
        self.acquired += 1


class CountingHandler(BaseCallbackHandler):
    def __init__(self) -> None:
        super().__init__([], [])
        self.events: list[CBEventType] = []

    def on_event_start(self, event_type: CBEventType, payload: Any = None, event_id: str = "", parent_id: str = "",
                       **kwargs: Any) -> str:
        self.events.append(event_type)
        return event_id

    def on_event_end(self, event_type: CBEventType, payload: Any = None, event_id: str = "", **kwargs: Any) -> None:
        pass

    def start_trace(self, trace_id: str | None = None) -> None:
        pass

    def end_trace(self, trace_id: str | None = None, trace_map: Any = None) -> None:
        pass


class Upper:
    """An output parser: what predict() returns passes through it."""

    def parse(self, output: str) -> str:
        return output.upper()

    def format(self, query: str) -> str:
        return query


def _constructor_args(cls: type[Any]) -> set[str]:
    """Constructor parameters, pydantic fields and every alias of them."""
    names = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs", "args"}
    for name, info in cls.model_fields.items():
        names.add(name)
        aliases = [info.alias, info.validation_alias, *getattr(info.validation_alias, "choices", [])]
        names.update(a for a in aliases if isinstance(a, str))
    return names


#: what the anchors take, read from the installed packages.
ANCHOR_LLM_ARGS = _constructor_args(OpenAILike)
ANCHOR_LLM_CALL_ARGS = set(inspect.signature(Completions.create).parameters) - {"self", "messages", "stream"}
ANCHOR_EMBEDDING_ARGS = _constructor_args(OpenAIEmbedding)
ANCHOR_EMBEDDING_CALL_ARGS = set(inspect.signature(OpenAIEmbedding.get_text_embedding_batch).parameters) - {
    "self", "texts", "kwargs"}

# ----------------------------------------------------------------------------- the classification

LLM_ARGS: dict[str, Case] = {
    "model": Case("same", "gpt-4o"),
    "temperature": Case("same", 0.5),
    "max_tokens": Case("same", 7),
    "logprobs": Case("same", True),
    "top_logprobs": Case("same", 2, also={"logprobs": True}),
    "additional_kwargs": Case("same", {"seed": 7, "top_p": 0.5}),
    "strict": Case("same", True, probe="tools"),
    "reasoning_effort": Case("same", "low", also={"model": "o3-mini"}),
    "system_prompt": Case("same", "Answer briefly.", probe="predict"),
    "messages_to_prompt": Case("same", lambda messages: "IGNORED", probe="chat"),
    "completion_to_prompt": Case("same", lambda prompt: f"say {prompt}", probe="complete"),
    "query_wrapper_prompt": Case("same", PromptTemplate("say 9 {query_str}"), probe="predict"),
    "output_parser": Case("same", Upper(), probe="predict"),
    "pydantic_program_mode": Case("documented", PydanticProgramMode.LLM, probe="structured"),
    "should_use_structured_outputs": Case("documented", True, probe="structured", also={"model": "gpt-4-turbo"}),
    "default_headers": Case("same", {"X-Canary": "tab\tand space"}),
    "api_key": Case("same", "sk-other-key"),
    "api_base": Case("same"),  # every case runs against the emulator's URL
    "http_client": Case("same", probe="chat"),
    "async_http_client": Case("same", probe="achat"),
    "callback_manager": Case("same"),
    "rate_limiter": Case("same"),
    "max_retries": Case("same", 0),
    "timeout": Case("same", 0.3),
    "context_window": Case("same", 32_000),
    "is_function_calling_model": Case("same", False),
    # documented differences (rows in the docs table)
    "reuse_client": Case("documented", False),
    # refused: typed error, nothing sent
    "is_chat_model": Case("refused", False),
    "api_version": Case("refused", "2024-06-01"),
    "modalities": Case("refused", ["text", "audio"]),
    "audio_config": Case("refused", {"voice": "alloy"}),
    "tokenizer": Case("refused", "gpt2"),
    "openai_client": Case("refused", openai.OpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1")),
    "async_openai_client": Case("refused", openai.AsyncOpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1")),
}

LLM_CALL_ARGS: dict[str, Case] = {
    **{name: Case("same", value) for name, value in {
        "model": "gpt-4o", "temperature": 0.3, "max_tokens": 5, "stop": ["zzz"], "top_p": 0.5, "seed": 3,
        "frequency_penalty": 0.5, "presence_penalty": 0.5, "logit_bias": {"50256": -100}, "user": "user-1",
        "n": 2, "logprobs": True, "service_tier": "auto", "metadata": {"k": "v"}, "store": False,
        "max_completion_tokens": 9, "prediction": {"type": "content", "content": "1"}, "prompt_cache_key": "k1",
        "prompt_cache_retention": "24h", "prompt_cache_options": {"mode": "auto"}, "safety_identifier": "s1",
        "verbosity": "low", "web_search_options": {}, "moderation": "auto",
        "response_format": {"type": "json_object"}, "extra_body": {"top_k": 4},
    }.items()},
    "top_logprobs": Case("same", 2, also={"logprobs": True}),
    "reasoning_effort": Case("same", "low", also={"model": "o3-mini"}),
    "stream_options": Case("same", {"include_usage": True}, probe="stream"),
    "tools": Case("same", [TOOL.metadata.to_openai_tool()]),
    "tool_choice": Case("same", "required", also={"tools": [TOOL.metadata.to_openai_tool()]}),
    "parallel_tool_calls": Case("same", False, also={"tools": [TOOL.metadata.to_openai_tool()]}),
    # refused with what to do instead
    "extra_headers": Case("refused", {"X-A": "1"}),
    "extra_query": Case("refused", {"a": "1"}),
    "timeout": Case("refused", 5),
    "functions": Case("refused", [{"name": "f", "parameters": {"type": "object", "properties": {}}}]),
    "function_call": Case("refused", "auto"),
    "audio": Case("refused", {"voice": "alloy", "format": "wav"}),
    "modalities": Case("refused", ["text", "audio"]),
}

EMBEDDING_ARGS: dict[str, Case] = {
    "model": Case("same", "text-embedding-3-large"),
    "model_name": Case("same", "text-embedding-3-large"),
    "dimensions": Case("same", 256, also={"model": "text-embedding-3-large"}),
    "additional_kwargs": Case("same", {"user": "user-1"}),
    "embed_batch_size": Case("same", 2),
    "default_headers": Case("same", {"X-Canary": "1"}),
    "api_key": Case("same", "sk-other-key"),
    "api_base": Case("same"),
    "http_client": Case("same"),
    "async_http_client": Case("same", probe="achat"),
    "callback_manager": Case("same"),
    "rate_limiter": Case("same"),
    "embeddings_cache": Case("same"),
    "max_retries": Case("same", 0),
    "timeout": Case("same", 0.3),
    "num_workers": Case("documented", 4),
    "reuse_client": Case("documented", False),
    "api_version": Case("refused", "2024-06-01"),
    "mode": Case("refused", "similarity"),
}

EMBEDDING_CALL_ARGS: dict[str, Case] = {"show_progress": Case("same", True)}


@pytest.mark.parametrize(
    ("enumerated", "classified"),
    [
        (ANCHOR_LLM_ARGS, LLM_ARGS),
        (ANCHOR_LLM_CALL_ARGS, LLM_CALL_ARGS),
        (ANCHOR_EMBEDDING_ARGS, EMBEDDING_ARGS),
        (ANCHOR_EMBEDDING_CALL_ARGS, EMBEDDING_CALL_ARGS),
    ],
    ids=["OpenAILike", "OpenAILike.chat", "OpenAIEmbedding", "OpenAIEmbedding.get_text_embedding_batch"],
)
def test_every_anchor_argument_is_classified(enumerated: set[str], classified: dict[str, Case]) -> None:
    assert sorted(enumerated - set(classified)) == [], "unclassified anchor arguments"
    assert sorted(set(classified) - enumerated) == [], "classified names the anchor no longer takes"


# ----------------------------------------------------------------------------- running both sides


def _messages() -> list[ChatMessage]:
    return [ChatMessage(role="user", content="say 1")]


def _result(value: Any) -> Any:
    if isinstance(value, ToolCallBlock):
        kwargs = value.tool_kwargs
        return value.tool_name, kwargs if isinstance(kwargs, dict) else __import__("json").loads(kwargs)
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


async def _probe(llm: Any, probe: str, call: dict[str, Any]) -> Any:
    if probe == "chat":
        return llm.chat(_messages(), **call).message.content
    if probe == "achat":
        return (await llm.achat(_messages(), **call)).message.content
    if probe == "stream":
        return "".join(r.delta or "" for r in llm.stream_chat(_messages(), **call))
    if probe == "tools":
        return _result(llm.chat_with_tools([TOOL], "add 1 and 2", **call).message.blocks[-1])
    if probe == "predict":
        return llm.predict(PromptTemplate("say {x}"), x="1")
    if probe == "complete":
        return llm.complete("2").text
    if probe == "structured":
        return _result(llm.structured_predict(Person, PromptTemplate("Extract: {t}"), t="Alice is 30 years old."))
    raise AssertionError(probe)


def _normalized(body: dict[str, Any] | None) -> dict[str, Any]:
    """A request body without what means the same either way (and the anchor's documented defaults)."""
    out = dict(body or {})
    for key, neutral in (("stream", False), ("tool_choice", "auto"), ("top_logprobs", 0)):
        if out.get(key) == neutral:
            del out[key]
    if out.get("stream_options") == {"include_usage": True}:  # ours asks for usage by default (stream_usage)
        del out["stream_options"]
    return out


def _anchor_llm(emu: Emulator, **kwargs: Any) -> OpenAILike:
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("api_base", emu.base_url)
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("is_chat_model", True)
    kwargs.setdefault("is_function_calling_model", True)
    return OpenAILike(**kwargs)


def _our_llm(emu: Emulator, **kwargs: Any) -> B3n:
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("api_base", emu.base_url)
    kwargs.setdefault("max_retries", 0)
    return B3n(**kwargs)


@dataclass
class Seen:
    result: Any
    bodies: list[dict[str, Any]]
    headers: list[dict[str, str]]


async def _run(emu: Emulator, make: Callable[[], Any], probe: str, call: dict[str, Any],
               anchor_temperature: bool = False) -> Seen:
    emu.reset()
    try:
        result = await _probe(make(), probe, call)
    except Exception as exc:  # both sides must fail alike; the type names differ (openai vs b3n)
        result = ("error", getattr(exc, "status_code", None) or getattr(exc, "status", None))
    bodies = []
    for request in _calls(emu):
        body = _normalized(request.json)
        if anchor_temperature and "temperature" in body and body["temperature"] in (0.1, 1.0):
            del body["temperature"]  # the anchor's default (0.1; 1.0 for o-series): documented difference
        bodies.append(body)
    return Seen(result, bodies, [{k.lower(): v for k, v in r.headers.items()} for r in _calls(emu)])


def _calls(emu: Emulator) -> list[Any]:
    """The chat and embedding requests (not the price list a cost report fetches once)."""
    return [r for r in emu.requests if r.path.endswith(("/chat/completions", "/embeddings"))]


def _special(name: str, case: Case, emu: Emulator) -> tuple[dict[str, Any], dict[str, Any]]:
    """Arguments for (anchor, ours) where the value is a live object or needs a counterpart."""
    if name in ("http_client", "async_http_client"):
        cls = httpx.Client if name == "http_client" else httpx.AsyncClient
        return ({name: cls(headers={"X-From-Client": "anchor"})}, {name: cls(headers={"X-From-Client": "anchor"})})
    if name == "callback_manager":
        return ({name: CallbackManager([CountingHandler()])}, {name: CallbackManager([CountingHandler()])})
    if name == "rate_limiter":
        return ({name: CountingLimiter()}, {name: CountingLimiter()})
    if name == "embeddings_cache":
        return ({name: SimpleKVStore()}, {name: SimpleKVStore()})
    if name == "api_base":
        return ({name: emu.base_url}, {name: emu.base_url})
    return ({name: case.value, **case.also}, {name: case.value, **case.also})


def _same_caller_effect(name: str, anchor: Any, ours: Any) -> None:
    if name == "callback_manager":
        a, o = anchor.callback_manager.handlers[0], ours.callback_manager.handlers[0]
        assert a.events and o.events
        assert set(o.events) == set(a.events)
    if name == "rate_limiter":
        assert anchor.rate_limiter.acquired == ours.rate_limiter.acquired >= 1
    if name in ("context_window", "is_function_calling_model"):
        assert ours.metadata.context_window == anchor.metadata.context_window or name != "context_window"
        assert ours.metadata.is_function_calling_model == anchor.metadata.is_function_calling_model


SAME_LLM = [n for n, c in LLM_ARGS.items() if c.kind == "same"]


@pytest.mark.parametrize("name", SAME_LLM)
async def test_same_effect_as_openailike(emulator: Emulator, name: str) -> None:
    case = LLM_ARGS[name]
    anchor_args, our_args = _special(name, case, emulator)
    if name == "timeout":
        emulator.reset()
    anchor = _anchor_llm(emulator, **anchor_args)
    ours = _our_llm(emulator, **our_args)

    def faults() -> None:
        if name == "max_retries":
            emulator.inject("server_error", route="chat", times=1)
        if name == "timeout":
            emulator.inject("slow_first_byte", route="chat", times=1, delay=1.0)

    seen = []
    for llm, is_anchor in ((anchor, True), (ours, False)):
        def make(llm: Any = llm) -> Any:
            faults()
            return llm
        seen.append(await _run(emulator, make, case.probe, {}, anchor_temperature=is_anchor))
    a, o = seen
    assert o.result == a.result
    assert o.bodies == a.bodies
    for header in ("authorization", "x-canary", "x-from-client"):
        assert [h.get(header) for h in o.headers] == [h.get(header) for h in a.headers]
    _same_caller_effect(name, anchor, ours)


SAME_CALL = [n for n, c in LLM_CALL_ARGS.items() if c.kind == "same"]


@pytest.mark.parametrize("name", SAME_CALL)
async def test_same_per_call_effect_as_openailike(emulator: Emulator, name: str) -> None:
    case = LLM_CALL_ARGS[name]
    call = {name: case.value, **{k: v for k, v in case.also.items() if k != "model"}}
    model = case.also.get("model", "gpt-4o-mini")
    a = await _run(emulator, lambda: _anchor_llm(emulator, model=model), case.probe, call, anchor_temperature=True)
    o = await _run(emulator, lambda: _our_llm(emulator, model=model), case.probe, call)
    assert o.result == a.result
    assert o.bodies == a.bodies
    assert o.bodies, "nothing reached the server"


def _refused(make: Callable[[], Any], name: str, emu: Emulator) -> None:
    emu.reset()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            make()
        except B3nError as exc:
            assert name in str(exc)
        else:
            assert any(name in str(w.message) for w in caught), f"{name} was neither refused nor warned"
    assert emu.total_requests == 0


@pytest.mark.parametrize("name", [n for n, c in LLM_ARGS.items() if c.kind == "refused"])
def test_refused_openailike_argument(emulator: Emulator, name: str) -> None:
    _refused(lambda: _our_llm(emulator, **{name: LLM_ARGS[name].value}).chat(_messages()), name, emulator)


@pytest.mark.parametrize("name", [n for n, c in LLM_CALL_ARGS.items() if c.kind == "refused"])
def test_refused_per_call_argument(emulator: Emulator, name: str) -> None:
    llm = _our_llm(emulator)
    _refused(lambda: llm.chat(_messages(), **{name: LLM_CALL_ARGS[name].value}), name, emulator)


@pytest.mark.parametrize("name", [n for n, c in EMBEDDING_ARGS.items() if c.kind == "refused"])
def test_refused_openaiembedding_argument(emulator: Emulator, name: str) -> None:
    value = EMBEDDING_ARGS[name].value
    _refused(lambda: _our_embedding(emulator, **{name: value}).get_text_embedding("x"), name, emulator)


def _documented_rows() -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    assert SECTION in text
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\|\s*`([a-z_]+)`", section, flags=re.MULTILINE))


DOCUMENTED = sorted({n for table in (LLM_ARGS, LLM_CALL_ARGS, EMBEDDING_ARGS) for n, c in table.items()
                     if c.kind == "documented"})
#: defaults of ours that differ from the anchors' (each has a row too).
DIFFERING_DEFAULTS = ["temperature", "max_retries", "context_window", "is_function_calling_model", "num_output",
                      "stream_usage", "embed_batch_size", "model_name"]


@pytest.mark.parametrize("name", DOCUMENTED + DIFFERING_DEFAULTS)
def test_difference_has_a_row_in_the_docs(name: str) -> None:
    assert name in _documented_rows()


@pytest.mark.parametrize("name", [n for n, c in LLM_ARGS.items() if c.kind == "documented"])
async def test_documented_llm_argument_works_and_is_never_sent(emulator: Emulator, name: str) -> None:
    case = LLM_ARGS[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen = await _run(emulator, lambda: _our_llm(emulator, **{name: case.value, **case.also}), case.probe, {})
    assert seen.result and not (isinstance(seen.result, tuple) and seen.result[0] == "error"), seen.result
    assert seen.bodies and all(name not in body for body in seen.bodies)
    if name == "reuse_client":  # said, not ignored
        assert any("reuse_client=False has no effect" in str(w.message) for w in caught)
    if name == "pydantic_program_mode":  # a text-completion program: the schema rides in the prompt
        assert "JSON schema" in seen.bodies[0]["messages"][-1]["content"] and "tools" not in seen.bodies[0]
    if name == "should_use_structured_outputs":
        assert seen.bodies[0]["response_format"]["type"] == "json_schema"


# ----------------------------------------------------------------------------- embeddings


def _anchor_embedding(emu: Emulator, **kwargs: Any) -> OpenAIEmbedding:
    kwargs.setdefault("model", "text-embedding-3-small")
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("api_base", emu.base_url)
    kwargs.setdefault("max_retries", 0)
    if "model_name" in kwargs:
        kwargs.pop("model")
    return OpenAIEmbedding(**kwargs)


def _our_embedding(emu: Emulator, **kwargs: Any) -> B3nEmbedding:
    if "model" not in kwargs:
        kwargs.setdefault("model_name", "text-embedding-3-small")
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("api_base", emu.base_url)
    kwargs.setdefault("max_retries", 0)
    return B3nEmbedding(**kwargs)


TEXTS = ["cats purr", "dogs bark", "  ", "naïve café ☕", "fish swim"]


async def _embed_probe(emb: Any, probe: str, call: dict[str, Any]) -> Any:
    if probe == "achat":
        vectors = await emb.aget_text_embedding_batch(TEXTS, **call)
    else:
        vectors = emb.get_text_embedding_batch(TEXTS, **call)
        vectors += emb.get_text_embedding_batch(TEXTS[:2], **call)  # a cache, if any, answers this one
    return [[round(x, 5) for x in v[:4]] + [len(v)] for v in vectors]


async def _embed_run(emu: Emulator, make: Callable[[], Any], probe: str, call: dict[str, Any]) -> Seen:
    emu.reset()
    try:
        result = await _embed_probe(make(), probe, call)
    except Exception as exc:
        result = ("error", getattr(exc, "status_code", None) or getattr(exc, "status", None))
    bodies = sorted(({k: v for k, v in (r.json or {}).items() if k != "encoding_format"} for r in _calls(emu)),
                    key=repr)
    return Seen(result, bodies, [{k.lower(): v for k, v in r.headers.items()} for r in _calls(emu)])


@pytest.mark.parametrize("name", [n for n, c in EMBEDDING_ARGS.items() if c.kind == "same"])
async def test_same_effect_as_openaiembedding(emulator: Emulator, name: str) -> None:
    case = EMBEDDING_ARGS[name]
    anchor_args, our_args = _special(name, case, emulator)
    seen = []
    for make in (lambda: _anchor_embedding(emulator, **anchor_args), lambda: _our_embedding(emulator, **our_args)):
        def made(make: Callable[[], Any] = make) -> Any:
            if name == "max_retries":
                emulator.inject("server_error", route="embeddings", times=1)
            if name == "timeout":
                emulator.inject("slow_first_byte", route="embeddings", times=1, delay=1.0)
            return make()
        seen.append(await _embed_run(emulator, made, case.probe, {}))
    a, o = seen
    assert o.result == a.result
    assert o.bodies == a.bodies
    for header in ("authorization", "x-canary", "x-from-client"):
        assert sorted(str(h.get(header)) for h in o.headers) == sorted(str(h.get(header)) for h in a.headers)


async def test_show_progress_has_the_same_effect(emulator: Emulator) -> None:
    a = await _embed_run(emulator, lambda: _anchor_embedding(emulator), "chat", {"show_progress": True})
    o = await _embed_run(emulator, lambda: _our_embedding(emulator), "chat", {"show_progress": True})
    assert o.result == a.result and o.bodies == a.bodies


def test_num_workers_sets_the_requests_in_flight(emulator: Emulator) -> None:
    emb = _our_embedding(emulator, num_workers=3, embed_batch_size=1)
    assert emb.max_concurrency == 3
    emulator.traffic.set_latency("embeddings", 0.05)
    emb.get_text_embedding_batch([f"text {i}" for i in range(9)])
    assert emulator.traffic.peak_concurrency == 3
    assert all("num_workers" not in (r.json or {}) for r in emulator.requests)
