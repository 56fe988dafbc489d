"""The drop-in rule for ``ChatOpenAI`` and ``OpenAIEmbeddings``, checked against the installed langchain-openai.

Every constructor field (name and aliases) of the installed classes, and every per-call argument ``ChatOpenAI``
honours (its ``bind_tools`` arguments and each OpenAI chat request field), is in exactly one class:

- SAME: the same effect on the wire and for the caller. Checked here against ``ChatOpenAI`` itself on the
  emulator: what a field changes in the request (body, headers, query) is the same for both classes;
- DOCUMENTED: different, and listed in the LangChain table of ``docs/coming-from-openai.md``;
- REFUSED: a typed error naming it, and nothing is sent.

A field a new langchain-openai release adds fails :func:`test_every_field_is_classified` until it is classified.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage
from langchain_core.rate_limiters import InMemoryRateLimiter
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from openai.types.chat.completion_create_params import CompletionCreateParamsBase
from pydantic import BaseModel

from b3n.testing import Emulator
from langchain_b3n import B3nEmbeddings, ChatB3n
from langchain_b3n._arguments import CHAT_REFUSED, EMBEDDINGS_ACCEPTED, EMBEDDINGS_REFUSED
from langchain_b3n.errors import B3nLCInvalidRequestError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "coming-from-openai.md"
KEY = "sk-dropin"


class Weather(BaseModel):
    """Get the weather in a city."""

    city: str


def _ids(text: str) -> list[int]:
    return [len(w) for w in text.split()]


def _one_field_each(**samples: Any) -> dict[str, dict[str, Any]]:
    """``{field: {field: sample}}``: each field compared alone, with its sample value."""
    return {field: {field: sample} for field, sample in samples.items()}


# --------------------------------------------------------------------------- ChatOpenAI constructor fields

#: fields ChatOpenAI and OpenAIEmbeddings share (the client: credentials, timeouts, headers) -> their samples.
CLIENT_SAMPLES: dict[str, Any] = {
    "openai_api_key": "sk-other",
    "api_key": "sk-other",
    "openai_organization": "org-1",
    "organization": "org-1",
    "request_timeout": 30,
    "timeout": 30,
    "max_retries": 0,
    "model_kwargs": {"user": "u-1"},
    "default_headers": {"X-Team": "blue"},
    "http_client": "sync",
    "http_async_client": "async",
}

#: SAME fields -> the constructor arguments of one comparison (the field under test is left out for the base).
CHAT_SAME: dict[str, dict[str, Any]] = {
    **_one_field_each(
        **CLIENT_SAMPLES,
        name="my-model",
        cache=False,
        verbose=True,
        callbacks=[],
        tags=["t1"],
        metadata={"k": "v"},
        custom_get_token_ids=_ids,
        rate_limiter=InMemoryRateLimiter(requests_per_second=1000),
        disable_streaming=True,
        output_version="v1",
        profile={"max_input_tokens": 1000},
        model_name="gpt-4o",
        model="gpt-4o",
        temperature=0.5,
        presence_penalty=0.5,
        frequency_penalty=0.5,
        seed=7,
        logprobs=True,
        logit_bias={50256: -100},
        streaming=True,
        top_p=0.9,
        verbosity="low",
        stream_chunk_timeout=12.0,
        stop=["\n\n"],
        stop_sequences=["\n\n"],
        extra_body={"user": "u-2"},
        prompt_cache_options={"mode": "implicit"},
        service_tier="flex",
        store=True,
    ),
    "top_logprobs": {"top_logprobs": 2, "logprobs": True},
    "reasoning_effort": {"reasoning_effort": "low", "model": "o4-mini"},
}

#: DOCUMENTED fields (each has a row in the docs table).
CHAT_DOCUMENTED = frozenset({
    "openai_api_base", "base_url",  # default: B3N_BASE_URL, else https://api.b3n.fun/v1
    "openai_proxy",  # proxy=; environment proxies apply too
    "stream_usage",  # default True
    "max_tokens", "max_completion_tokens",  # sent under the name the model's route takes
    "reasoning",  # {"effort": x} is reasoning_effort=x; else refused
    "tiktoken_model_name",  # counts without downloading
    "disabled_params",  # applies to every request
    "n",  # never streamed
})

#: ChatOpenAI fields whose caller-side effect shows on the instance (ours, theirs, value).
CHAT_CALLER_EFFECT: dict[str, Callable[[ChatB3n], Any]] = {
    "request_timeout": lambda llm: llm.b3n_config().timeout,
    "timeout": lambda llm: llm.b3n_config().timeout,
    "max_retries": lambda llm: llm.b3n_config().max_retries,
    "stream_chunk_timeout": lambda llm: llm.b3n_config().stream_idle_timeout,
}

#: a value each REFUSED field is refused with.
REFUSED_SAMPLES: dict[str, Any] = {
    "client": object(), "async_client": object(), "root_client": object(), "root_async_client": object(),
    "default_query": {"api-version": "1"}, "include_response_headers": True, "http_socket_options": [(1, 2, 3)],
    "use_responses_api": True, "use_previous_response_id": True, "context_management": [{"type": "compaction"}],
    "include": ["reasoning.encrypted_content"], "truncation": "auto",
    "deployment": "my-deployment", "openai_api_version": "2024-02-01", "api_version": "2024-02-01",
    "openai_api_type": "azure", "allowed_special": "all", "disallowed_special": (), "skip_empty": True,
    "embedding_ctx_length": 4000, "retry_min_seconds": 1, "retry_max_seconds": 5, "headers": {"X-A": "b"},
}


def _field_names(cls: type[BaseModel]) -> set[str]:
    """Every name the class's constructor takes (a field's own name only where pydantic accepts it)."""
    names: set[str] = set()
    by_name = cls.model_config.get("populate_by_name") or cls.model_config.get("validate_by_name")
    for name, info in cls.model_fields.items():
        if by_name or (info.alias is None and info.validation_alias is None):
            names.add(name)
        for alias in (info.alias, info.validation_alias):
            if isinstance(alias, str):
                names.add(alias)
            elif alias is not None:
                names.update(c for c in getattr(alias, "choices", ()) if isinstance(c, str))
    return names


def _documented_names(section: str) -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(section)
    end = text.find("\n## ", start + 1)
    table = text[start: end if end != -1 else None]
    return {m for row in table.splitlines() if row.startswith("|") for m in re.findall(r"`([a-z_]+)`", row.split("|")[1])}


def _assert_classified_once(fields: set[str], classes: list[set[str]], anchor: str) -> None:
    """Each of the anchor class's ``fields`` is in exactly one of ``classes`` (same, documented, refused)."""
    for i, a in enumerate(classes):
        for b in classes[i + 1:]:
            assert not a & b, f"classified twice: {sorted(a & b)}"
    unclassified = fields - set().union(*classes)
    assert not unclassified, f"{anchor} fields nobody classified (new langchain-openai release?): {unclassified}"


def test_every_chat_field_is_classified_once() -> None:
    fields = _field_names(ChatOpenAI)
    _assert_classified_once(fields, [set(CHAT_SAME), set(CHAT_DOCUMENTED), set(CHAT_REFUSED)], "ChatOpenAI")
    assert len(fields) >= 60


def test_every_documented_chat_difference_is_in_the_docs_table() -> None:
    rows = _documented_names("## LangChain: ChatOpenAI")
    missing = (CHAT_DOCUMENTED | set(CHAT_REFUSED)) - rows
    assert not missing, f"not in the docs table: {sorted(missing)}"


def _defaults(defaults: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` updated by ``kwargs``, a default dropped where ``kwargs`` gives it under another name."""
    same = {"openai_api_key": "api_key", "openai_api_base": "base_url", "model_name": "model"}
    args = {k: v for k, v in defaults.items() if not any(same.get(given) == k for given in kwargs)}
    return {**args, **kwargs}


def _build(cls: type[Any], emu: Emulator, kwargs: dict[str, Any]) -> Any:
    args = _defaults({"model": "gpt-4o-mini", "api_key": KEY, "base_url": emu.base_url, "stream_usage": True}, kwargs)
    if args.get("http_client") == "sync":
        args["http_client"] = httpx.Client()
    if args.get("http_async_client") == "async":
        args["http_async_client"] = httpx.AsyncClient()
    return cls(**args)


_VOLATILE_HEADERS = re.compile(r"^(user-agent|x-stainless-.*|content-length|accept|accept-encoding|connection|host)$")


def _seen(emu: Emulator, since: int) -> list[tuple[dict[str, Any], dict[str, str], str]]:
    out = []
    for record in emu.requests[since:]:
        if "chat" not in record.route and "embeddings" not in record.route:
            continue  # e.g. a model list ChatB3n reads once per relay
        body = dict(record.json) if isinstance(record.json, dict) else {}
        if body.get("stream") is False:
            body.pop("stream")  # ChatOpenAI sends stream=false: the same as no stream field
        headers = {k.lower(): v for k, v in record.headers.items() if not _VOLATILE_HEADERS.match(k.lower())}
        query = record.path.partition("?")[2]
        out.append((body, headers, query))
    return out


def _delta(base: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    keys = set(base) | set(changed)
    return {k: (base.get(k), changed.get(k)) for k in sorted(keys) if base.get(k) != changed.get(k)}


def _run(llm: Any, emu: Emulator, call: Callable[[Any], Any]) -> tuple[list[Any], str]:
    since = len(emu.requests)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call(llm)
            outcome = result.text if isinstance(result, AIMessage) else repr(result)[:80]
        except Exception:
            outcome = "error"
    return _seen(emu, since), outcome


def _wire_effect(cls: type[Any], emu: Emulator, kwargs: dict[str, Any], field: str, call: Callable[[Any], Any]
                 ) -> tuple[list[Any], str]:
    base_kwargs = {k: v for k, v in kwargs.items() if k != field}
    base, _ = _run(_build(cls, emu, base_kwargs), emu, call)
    changed, outcome = _run(_build(cls, emu, kwargs), emu, call)
    assert len(base) == len(changed), f"{cls.__name__}: {field} changed the number of requests"
    deltas = [
        (_delta(b[0], c[0]), _delta(b[1], c[1]), (b[2], c[2]) if b[2] != c[2] else None)
        for b, c in zip(base, changed, strict=True)
    ]
    return deltas, outcome


def _invoke(llm: Any) -> Any:
    return llm.invoke("say 1")


def _stream(llm: Any) -> Any:
    chunks = list(llm.stream("say 1"))
    return sum(chunks[1:], chunks[0])


@pytest.mark.parametrize("call", [_invoke, _stream], ids=["invoke", "stream"])
@pytest.mark.parametrize("field", sorted(CHAT_SAME))
def test_same_chat_field_has_the_same_effect_as_in_chatopenai(emulator: Emulator, field: str, call: Any) -> None:
    kwargs = CHAT_SAME[field]
    theirs, their_outcome = _wire_effect(ChatOpenAI, emulator, kwargs, field, call)
    ours, our_outcome = _wire_effect(ChatB3n, emulator, kwargs, field, call)
    assert ours == theirs, f"{field}: ChatB3n changes the request by {ours}, ChatOpenAI by {theirs}"
    assert our_outcome == their_outcome
    if field in CHAT_CALLER_EFFECT:
        llm = _build(ChatB3n, emulator, kwargs)
        assert CHAT_CALLER_EFFECT[field](llm) == next(iter(kwargs.values()))


# --------------------------------------------------------------------------- per-call arguments

#: bind_tools arguments and OpenAI chat request fields a call may pass -> the sample of one comparison.
CALL_SAME: dict[str, dict[str, Any]] = {
    **_one_field_each(
        stop=["\n\n"],
        temperature=0.2,
        top_p=0.5,
        seed=3,
        n=2,
        logprobs=True,
        frequency_penalty=0.1,
        presence_penalty=0.1,
        logit_bias={"50256": -100},
        user="u-9",
        metadata={"k": "v"},
        store=False,
        service_tier="auto",
        safety_identifier="s-1",
        prompt_cache_key="p-1",
        prompt_cache_retention="24h",
        prompt_cache_options={"mode": "implicit"},
        verbosity="low",
        response_format={"type": "json_object"},
        prediction={"type": "content", "content": "1"},
        modalities=["text"],
        web_search_options={},
        moderation={"model": "omni-moderation-latest"},
        functions=[{"name": "f", "parameters": {"type": "object", "properties": {}}}],
        extra_body={"user": "u-3"},
    ),
    "top_logprobs": {"logprobs": True, "top_logprobs": 1},
    "audio": {"audio": {"voice": "alloy", "format": "mp3"}, "modalities": ["text", "audio"]},
    "function_call": {"function_call": "auto",
                      "functions": [{"name": "f", "parameters": {"type": "object", "properties": {}}}]},
}
#: bind_tools arguments -> (tools, kwargs).
BIND_SAME: dict[str, dict[str, Any]] = {
    "tools": {},
    "tool_choice": {"tool_choice": "Weather"},
    "parallel_tool_calls": {"parallel_tool_calls": False},
    "strict": {"strict": True},
}
#: per-call arguments that differ (docs table rows).
CALL_DOCUMENTED = frozenset({"max_tokens", "max_completion_tokens", "stream_options", "reasoning_effort"})
#: OpenAI request fields that are not call arguments (set by the class itself).
NOT_CALL_ARGUMENTS = frozenset({"messages", "model"})


def test_every_call_argument_is_classified_once() -> None:
    openai_fields = set(CompletionCreateParamsBase.__annotations__) - NOT_CALL_ARGUMENTS
    bind_args = {"tools", "tool_choice", "strict", "parallel_tool_calls"}
    classified = [set(CALL_SAME), set(BIND_SAME), set(CALL_DOCUMENTED)]
    for i, a in enumerate(classified):
        for b in classified[i + 1:]:
            assert not a & b
    unclassified = (openai_fields | bind_args) - set().union(*classified)
    assert not unclassified, f"per-call arguments nobody classified (new openai release?): {unclassified}"
    assert _documented_names("## LangChain: ChatOpenAI") >= CALL_DOCUMENTED


@pytest.mark.parametrize(("field", "bound"), [*((f, False) for f in sorted(CALL_SAME)),
                                             *((f, True) for f in sorted(BIND_SAME))])
def test_same_call_argument_has_the_same_effect_as_in_chatopenai(emulator: Emulator, field: str, bound: bool) -> None:
    """A per-call argument (``bound``: a ``bind_tools`` one) changes the request as it does for ChatOpenAI."""
    kwargs = (BIND_SAME if bound else CALL_SAME)[field]
    base = {k: v for k, v in kwargs.items() if k != field}

    def calling(arguments: dict[str, Any], *, tools: bool = True) -> Callable[[Any], Any]:
        if not bound:
            return lambda m: m.invoke("say 1", **arguments)
        return lambda m: (m.bind_tools([Weather], **arguments) if tools else m).invoke("weather in Paris?")

    results = []
    for cls in (ChatOpenAI, ChatB3n):
        llm = _build(cls, emulator, {})
        before, _ = _run(llm, emulator, calling(base, tools=field != "tools"))
        after, outcome = _run(llm, emulator, calling(kwargs))
        results.append((len(after), [_delta(b[0], a[0]) for b, a in zip(before, after, strict=bound)], outcome))
    assert results[0] == results[1], f"{field}: ChatOpenAI {results[0]}, ChatB3n {results[1]}"


def test_an_unknown_call_argument_is_refused_with_the_closest_name(emulator: Emulator) -> None:
    llm = _build(ChatB3n, emulator, {})
    with pytest.raises(B3nLCInvalidRequestError, match=r"'temprature'. Did you mean 'temperature'.*extra_body"):
        llm.invoke("hi", temprature=0)
    with pytest.raises(B3nLCInvalidRequestError, match=r"'max_token'. Did you mean 'max_tokens'"):
        llm.bind(max_token=5).invoke("hi")
    assert emulator.count("chat") == 0


# --------------------------------------------------------------------------- refused, chat and embeddings


@pytest.mark.parametrize(("cls", "name"), [(ChatB3n, n) for n in sorted(CHAT_REFUSED)]
                         + [(B3nEmbeddings, n) for n in sorted(EMBEDDINGS_REFUSED)])
def test_refused_field_names_itself_and_sends_nothing(emulator: Emulator, cls: type[Any], name: str) -> None:
    with pytest.raises(B3nLCInvalidRequestError, match=rf"\b{name}\b") as info:
        cls(api_key=KEY, base_url=emulator.base_url, **{name: REFUSED_SAMPLES[name]})
    if not isinstance(REFUSED_SAMPLES[name], bool):
        assert repr(REFUSED_SAMPLES[name]) not in str(info.value)  # values (maybe secrets) are not repeated
    assert emulator.total_requests == 0


# --------------------------------------------------------------------------- OpenAIEmbeddings

EMB_SAME: dict[str, dict[str, Any]] = {
    **_one_field_each(
        **CLIENT_SAMPLES,
        model="text-embedding-3-large",
        dimensions=256,
        show_progress_bar=True,
        chunk_size=1,
    ),
}
EMB_DOCUMENTED = frozenset({"openai_api_base", "base_url", "openai_proxy", *EMBEDDINGS_ACCEPTED})


def test_every_embeddings_field_is_classified_once() -> None:
    fields = _field_names(OpenAIEmbeddings)
    _assert_classified_once(fields, [set(EMB_SAME), set(EMB_DOCUMENTED), set(EMBEDDINGS_REFUSED)], "OpenAIEmbeddings")
    rows = _documented_names("## LangChain: ChatOpenAI")
    assert not (EMB_DOCUMENTED | set(EMBEDDINGS_REFUSED)) - rows


def _build_embeddings(cls: type[Any], emu: Emulator, kwargs: dict[str, Any]) -> Any:
    args = _defaults({"model": "text-embedding-3-small", "api_key": KEY, "base_url": emu.base_url}, kwargs)
    if cls is OpenAIEmbeddings:
        args["check_embedding_ctx_length"] = False  # send text (the default sends token ids)
    if args.get("http_client") == "sync":
        args["http_client"] = httpx.Client()
    if args.get("http_async_client") == "async":
        args["http_async_client"] = httpx.AsyncClient()
    return cls(**args)


def _embed(emb: Any) -> Any:
    return emb.embed_documents(["cats purr", "dogs bark"])


@pytest.mark.parametrize("field", sorted(EMB_SAME))
def test_same_embeddings_field_has_the_same_effect(emulator: Emulator, field: str) -> None:
    kwargs = EMB_SAME[field]
    base_kwargs = {k: v for k, v in kwargs.items() if k != field}
    effects = []
    for cls in (OpenAIEmbeddings, B3nEmbeddings):
        base, _ = _run(_build_embeddings(cls, emulator, base_kwargs), emulator, _embed)
        changed, outcome = _run(_build_embeddings(cls, emulator, kwargs), emulator, _embed)
        deltas = None
        if len(base) == len(changed):
            deltas = [(_delta(b[0], c[0]), _delta(b[1], c[1])) for b, c in zip(base, changed, strict=True)]
        effects.append((len(changed), deltas, outcome))
    assert effects[0] == effects[1], f"{field}: OpenAIEmbeddings {effects[0]}, B3nEmbeddings {effects[1]}"
