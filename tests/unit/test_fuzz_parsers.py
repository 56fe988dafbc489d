"""Property-based fuzzing of every parser of what a relay sends: only a valid result or a B3nError comes out.

Hypothesis builds relay-shaped JSON (the keys our parsers look at, filled with hostile values: deep nesting,
``1e400``, ``NaN``, ``"²"``, huge integers, wrong types) and raw bytes, and feeds them through the same
functions the clients use, end to end: the body decoder, the chat response parser, the SSE line splitter and
decoder, the stream assembler, embeddings, models, account, relay error bodies, structured-output extraction,
and both frameworks' converters. Any exception other than a ``B3nError`` (``RecursionError``,
``OverflowError``, ``ValueError``, ``TypeError``, pydantic's ``ValidationError``...) fails the test.

Examples are bounded (``max_examples``, no deadline flakiness) so the whole file runs in a few seconds.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b3n._account import parse_account
from b3n._body import _parse_event, json_or_error
from b3n._chat.response import parse_chat_completion
from b3n._chat.stream import StreamAssembler
from b3n._chat.structured import extract_json
from b3n._embeddings import EmbeddingRequest, parse_embedding_response
from b3n._errors import B3nError
from b3n._json import MAX_DEPTH, count, depth, finite, loads
from b3n._models import parse_models
from b3n._relay_errors import error_from_response
from b3n._sse import LineSplitter, SSEDecoder

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
#: for the end-to-end properties that also build framework messages (slower per example).
HEAVY = settings(FUZZ, max_examples=40)

#: the keys the parsers read, so generated bodies reach deep into them.
KEYS = [
    "choices", "index", "message", "delta", "content", "tool_calls", "function", "name", "arguments", "id",
    "type", "text", "usage", "prompt_tokens", "completion_tokens", "total_tokens", "input_tokens",
    "output_tokens", "completion_tokens_details", "reasoning_tokens", "prompt_tokens_details", "cached_tokens",
    "cache_read_input_tokens", "cache_creation_input_tokens", "finish_reason", "model", "created", "logprobs",
    "token", "logprob", "bytes", "top_logprobs", "refusal", "reasoning_content", "reasoning", "error", "code",
    "data", "embedding", "object", "owned_by", "success", "quota", "used_quota", "request_count", "username",
    "display_name", "email", "group", "role", "status", "system_fingerprint", "extra_content", "kind", "known",
    "info",
]
DEEP = "\x00deep\x00"  # a leaf replaced by deeply nested brackets in the JSON text

ODD_NUMBERS = st.sampled_from([
    1e400, -1e400, float("nan"), 10**400, -(10**30), 2**63, 2**53 + 1, -1, 0.5, 1e-320, "²", "1e400", "NaN",
    "Infinity", "-1", "12", "١٢", "0x10", "", " 7", "9" * 30,
])
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), ODD_NUMBERS,
    st.sampled_from(KEYS), st.just(DEEP),
)
VALUES = st.recursive(
    LEAVES,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), kids,
                                                              max_size=6),
    max_leaves=12,
)


def _chat_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Bodies shaped like a chat reply or stream chunk, with hostile values in every slot."""
    tool_call = st.fixed_dictionaries({
        "index": VALUES, "id": VALUES, "type": st.just("function"),
        "function": st.fixed_dictionaries({"name": VALUES, "arguments": VALUES | st.text(max_size=30)}),
    })
    message = st.fixed_dictionaries({
        "content": VALUES, "tool_calls": st.lists(tool_call, max_size=3) | VALUES, "refusal": VALUES,
        "reasoning_content": VALUES,
    })
    logprobs = st.fixed_dictionaries({"content": st.lists(st.fixed_dictionaries(
        {"token": VALUES, "logprob": VALUES | ODD_NUMBERS, "bytes": VALUES, "top_logprobs": VALUES}), max_size=2)
        | VALUES})
    choice = st.fixed_dictionaries({
        "index": VALUES, "message": message, "delta": message, "finish_reason": VALUES, "logprobs": logprobs,
    })
    number = ODD_NUMBERS | VALUES
    usage = st.fixed_dictionaries({
        "prompt_tokens": number, "completion_tokens": number, "total_tokens": number,
        "completion_tokens_details": st.fixed_dictionaries({"reasoning_tokens": number}),
        "prompt_tokens_details": st.fixed_dictionaries({"cached_tokens": number}),
    }) | VALUES
    return st.fixed_dictionaries(
        {"id": VALUES, "model": VALUES, "created": number, "choices": st.lists(choice, min_size=1, max_size=2) | VALUES,
         "usage": usage, "system_fingerprint": VALUES},
        optional={"error": VALUES, "object": VALUES},
    )


CHAT_BODIES = _chat_bodies()


def _to_text(value: Any, depth: int) -> str:
    """JSON text of ``value`` with each DEEP leaf replaced by ``depth`` nested brackets (json.dumps would recurse)."""
    text = json.dumps(value, allow_nan=True)
    deep = "[" * depth + "{" + '"a":1' + "}" + "]" * depth
    return text.replace(json.dumps(DEEP), deep)


DEPTHS = st.sampled_from([1, 50, MAX_DEPTH - 2, MAX_DEPTH + 1, 1_000, 5_000, 50_000])


def _only_b3n_errors(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except B3nError:
        return None


def _decoded(text: str | bytes) -> Any:
    content = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return json_or_error(httpx.Response(200, content=content), "the fuzzed request")


# ------------------------------------------------------------------------------------------- the JSON loader


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_loads_accepts_json_or_raises_value_error_only(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        loads(data)


@FUZZ
@given(VALUES, DEPTHS)
def test_loads_bounds_depth_whatever_the_nesting(value: Any, depth: int) -> None:
    text = _to_text(value, depth)
    try:
        loads(text)
    except ValueError as exc:
        assert json.dumps(DEEP) in json.dumps(value) and depth >= MAX_DEPTH // 2, exc


def _nesting(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_nesting, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_nesting, value), default=0)
    return 0


#: strings that look like structure: brackets, escaped quotes and backslashes, non-ASCII around them.
TRICKY = st.text(alphabet='[]{}"\\\\é\u2028\ud800 ab', max_size=8)
TREES = st.recursive(TRICKY | st.integers(), lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(TRICKY, inner, max_size=3), max_leaves=20)


@FUZZ
@given(TREES, st.booleans(), st.booleans())
def test_depth_counts_the_nesting_not_brackets_in_strings(value: Any, ascii_only: bool, as_bytes: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    expected = _nesting(value)
    if text.count("[") + text.count("{") <= 1:  # the short cut: one bracket is one level, whatever it is
        expected = 1 if ("[" in text or "{" in text) else 0  # (also a lone bracket inside a string)
    assert depth(text.encode("utf-8", "surrogatepass") if as_bytes else text) == expected


@FUZZ
@given(TREES, st.integers(MAX_DEPTH - 8, MAX_DEPTH + 2), st.booleans())
def test_loads_refuses_the_same_depth_from_bytes_as_from_text(value: Any, wraps: int, ascii_only: bool) -> None:
    """Bytes are scanned in one pass over their quotes and brackets; text by its bracket count first."""
    text = "[" * wraps + json.dumps(value, ensure_ascii=ascii_only) + "]" * wraps
    too_deep = wraps + _nesting(value) > MAX_DEPTH
    for data in (text, text.encode("utf-8", "surrogatepass")):
        try:
            parsed = loads(data)
        except ValueError as exc:
            assert too_deep and "deeper than" in str(exc)
        else:
            assert not too_deep and parsed == json.loads(text)


@FUZZ
@given(VALUES)
def test_numbers_read_from_the_wire_never_raise(value: Any) -> None:
    n = count(value)
    assert n is None or (isinstance(n, int) and 0 <= n <= 2**53)
    f = finite(value)
    assert f is None or math.isfinite(f)


# ------------------------------------------------------------------------------------------- chat replies


@HEAVY
@given(CHAT_BODIES, DEPTHS, st.sampled_from(["gpt-4o-mini", "gemini-1.5-flash-latest", "claude-3-5-sonnet-latest"]))
def test_chat_reply_parses_or_raises_b3n_error(body: dict[str, Any], depth: int, model: str) -> None:
    decoded = _only_b3n_errors(lambda: _decoded(_to_text(body, depth)))
    if decoded is None:
        return
    completion = _only_b3n_errors(lambda: parse_chat_completion(decoded, model))
    if completion is None:
        return
    _check_usage(completion.usage)
    for call in completion.tool_calls:
        assert isinstance(call.arguments, str) and isinstance(call.name, str) and isinstance(call.id, str)
    _through_frameworks(completion)


@FUZZ
@given(st.binary(max_size=400))
def test_chat_reply_from_any_bytes(data: bytes) -> None:
    decoded = _only_b3n_errors(lambda: _decoded(data))
    if decoded is not None:
        _only_b3n_errors(lambda: parse_chat_completion(decoded, "gpt-4o-mini"))


def _check_usage(usage: Any) -> None:
    if usage is None:
        return
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = getattr(usage, name)
        assert isinstance(value, int) and 0 <= value <= 2**54, (name, value)


def _through_frameworks(completion: Any) -> None:
    from langchain_b3n._messages import completion_to_message
    from llama_index_b3n._messages import completion_to_response

    message = completion_to_message(completion)
    for call in message.tool_calls:
        assert isinstance(call["args"], dict)
    completion_to_response(completion)


# ------------------------------------------------------------------------------------------- streams


SSE_LINES = st.lists(
    st.one_of(
        st.sampled_from(["", ": ping", "data: [DONE]", "data:", "event: x", "retry: 1", "data:[DONE]", "{",
                         '{"error": 1}', '{"error": {"message": 5, "code": []}}', "\r", "data: {"]),
        st.text(max_size=40),
    ),
    max_size=12,
)


@FUZZ
@given(SSE_LINES, st.lists(st.integers(1, 17), min_size=1, max_size=5))
def test_sse_bytes_decode_to_payloads_or_b3n_error(lines: list[str], cuts: list[int]) -> None:
    raw = "\n".join(lines).encode("utf-8", "surrogatepass")
    splitter, decoder, out = LineSplitter(), SSEDecoder("gpt-4o-mini"), []

    def run() -> None:
        pos = 0
        for cut in cuts * (len(raw) // max(sum(cuts), 1) + 1):
            for line in splitter.feed(raw[pos : pos + cut]):
                data = decoder.feed(line)
                if data is not None:
                    out.append(data)
            pos += cut
            if pos >= len(raw):
                break
        for line in splitter.close():
            decoder.feed(line)
        decoder.close()

    _only_b3n_errors(run)
    assert all(isinstance(item, str) for item in out)


@HEAVY
@given(st.lists(CHAT_BODIES, min_size=1, max_size=4), DEPTHS,
       st.sampled_from(["gpt-4o-mini", "gemini-1.5-flash-latest", "claude-3-opus-20240229"]))
def test_stream_chunks_assemble_or_raise_b3n_error(chunks: list[dict[str, Any]], depth: int, model: str) -> None:
    from langchain_b3n._messages import StreamConverter as LangChainConverter
    from llama_index_b3n._messages import StreamConverter as LlamaConverter

    assembler = StreamAssembler(model)
    lc, li = LangChainConverter(), LlamaConverter()

    def run() -> None:
        for body in chunks:
            event = _parse_event(_to_text(body, depth), model)
            if event is None:
                continue
            chunk = assembler.feed(event)
            if chunk is not None:
                lc.convert(chunk)
                li.convert(chunk)
        final = assembler.finish()
        _check_usage(final.usage)
        lc.convert(final)
        li.convert(final)
        _through_frameworks(assembler.result())

    _only_b3n_errors(run)


# ------------------------------------------------------------------------------------------- other bodies


@FUZZ
@given(VALUES, DEPTHS, st.integers(1, 3), st.booleans())
def test_embeddings_parse_or_raise_b3n_error(data: Any, depth: int, size: int, as_numpy: bool) -> None:
    import numpy

    body = {"data": data if not isinstance(data, list) else [
        {"index": i, "embedding": item} for i, item in enumerate(data)], "model": data, "usage": {
        "prompt_tokens": data, "total_tokens": 1e400}}
    decoded = _only_b3n_errors(lambda: _decoded(_to_text(body, depth)))
    if decoded is None:
        return
    request = EmbeddingRequest(model="text-embedding-3-small", payload={}, size=size)
    result = _only_b3n_errors(lambda: parse_embedding_response(decoded, request, numpy=numpy if as_numpy else None))
    if result is not None:
        vectors = result.array if as_numpy else result.embeddings
        assert all(math.isfinite(float(x)) for vector in vectors for x in vector)


@FUZZ
@given(VALUES, DEPTHS)
def test_models_parse_or_raise_b3n_error(value: Any, depth: int) -> None:
    body = {"data": [value, {"id": "gpt-4o", "object": value, "owned_by": value, "created": value}]}
    for candidate in (body, value):
        decoded = _only_b3n_errors(lambda c=candidate: _decoded(_to_text(c, depth)))
        if decoded is not None:
            _only_b3n_errors(lambda d=decoded: parse_models(d))


ACCOUNT_FIELDS = ["id", "username", "display_name", "email", "group", "role", "status", "quota", "used_quota",
                  "request_count"]


@FUZZ
@given(st.dictionaries(st.sampled_from(ACCOUNT_FIELDS) | st.text(max_size=5), ODD_NUMBERS | VALUES, max_size=8),
       st.sampled_from([True, False, None, "yes"]), DEPTHS)
def test_account_parse_or_raise_b3n_error(data: dict[str, Any], success: Any, depth: int) -> None:
    decoded = _only_b3n_errors(lambda: _decoded(_to_text({"success": success, "data": {"id": 1, **data}}, depth)))
    if decoded is None:
        return
    info = _only_b3n_errors(lambda: parse_account(decoded))
    if info is not None:
        assert math.isfinite(info.balance_usd) and math.isfinite(info.used_usd)


@FUZZ
@given(VALUES, DEPTHS, st.sampled_from([400, 401, 403, 404, 429, 500, 502]))
def test_error_bodies_become_b3n_errors(value: Any, depth: int, status: int) -> None:
    for body in ({"error": value}, {"error": {"message": value, "type": value, "code": value}}, value):
        text = _to_text(body, depth).encode("utf-8", "surrogatepass")
        error = error_from_response(status, text, {}, model="gpt-4o-mini")
        assert isinstance(error, B3nError)
        str(error)


@FUZZ
@given(VALUES, DEPTHS, st.text(max_size=20))
def test_structured_output_extraction_returns_json_or_b3n_error(value: Any, depth: int, prose: str) -> None:
    for text in (_to_text(value, depth), prose + _to_text(value, depth), "```json\n" + _to_text(value, depth)):
        _only_b3n_errors(lambda t=text: extract_json(t, model="gpt-4o"))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
def test_deep_bodies_are_typed_errors_not_recursion_errors(depth: int) -> None:
    with pytest.raises(B3nError, match="deeper than"):
        _decoded("[" * depth + "]" * depth)


PRICE_FIELDS = ["model_name", "model_ratio", "completion_ratio", "model_price", "quota_type", "cache_ratio",
                "cache_creation_ratio"]


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(PRICE_FIELDS), ODD_NUMBERS | VALUES, max_size=7)
                .map(lambda row: {"model_name": "gpt-4o-mini", **row}), max_size=3),
       VALUES | ODD_NUMBERS, DEPTHS)
def test_price_lists_parse_or_are_refused_and_never_break_the_cost(rows: list[dict[str, Any]], group: Any,
                                                                   depth: int) -> None:
    import warnings

    from b3n import Usage
    from b3n._pricing import PriceTable

    decoded = _only_b3n_errors(lambda: _decoded(_to_text(
        {"success": True, "data": rows, "group_ratio": {"default": group}}, depth)))
    if decoded is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = _only_b3n_errors(lambda: PriceTable.from_relay(decoded))
        if table is None:
            return
        cost = _only_b3n_errors(lambda: table.cost("gpt-4o-mini", Usage(3, 2, 5)))
    if cost is not None and cost.usd is not None:
        assert math.isfinite(cost.usd) and cost.usd >= 0
