"""Embeddings core logic without a network: planning, validation, decoding, ordering."""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b3n._embeddings import (
    MAX_BATCH_SIZE,
    batch_tokens,
    build_embedding_request,
    check_job_options,
    decode_base64_embedding,
    parse_embedding_response,
    slice_batches,
)
from b3n._errors import B3nConfigurationError, B3nInvalidRequestError, B3nRateLimitError, B3nResponseError


def _b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


# ----------------------------------------------------------------------------- planning


def test_batches_respect_item_count_and_cover_everything_in_order() -> None:
    batches = slice_batches(["t"] * 2500, batch_size=1000)
    assert batches == [(0, 1000), (1000, 2000), (2000, 2500)]


def test_batches_respect_token_budget() -> None:
    texts = ["x" * 3000] * 10  # ~1001 estimated tokens each
    batches = slice_batches(texts, batch_size=2048, max_batch_tokens=2500)
    assert all(stop - start == 2 for start, stop in batches)
    assert batches[0][0] == 0 and batches[-1][1] == 10


def test_oversized_text_gets_its_own_batch() -> None:
    assert slice_batches(["a", "b" * 10_000, "c"], max_batch_tokens=100) == [(0, 1), (1, 2), (2, 3)]


def test_token_estimate_counts_cjk_bytes() -> None:
    assert batch_tokens("hello world!") == 5
    assert batch_tokens("向量化") == 4  # 9 UTF-8 bytes: ~1 token per character


def test_empty_job_plans_no_batch() -> None:
    assert slice_batches([]) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": MAX_BATCH_SIZE + 1}, "2048"),
        ({"max_batch_tokens": 0}, "max_batch_tokens"),
        ({"max_concurrency": 0}, "max_concurrency"),
    ],
)
def test_impossible_job_options_are_refused(kwargs: dict[str, int], match: str) -> None:
    options = {"batch_size": 10, "max_batch_tokens": 10, "max_concurrency": 1, **kwargs}
    with pytest.raises(B3nConfigurationError, match=match):
        check_job_options(**options)


# ----------------------------------------------------------------------------- requests


def test_request_asks_for_base64_by_default_and_float_on_demand() -> None:
    assert build_embedding_request(["a"]).payload["encoding_format"] == "base64"
    assert build_embedding_request(["a"], encoding_format="float").payload["encoding_format"] == "float"
    with pytest.raises(B3nInvalidRequestError, match="encoding_format"):
        build_embedding_request(["a"], encoding_format="int8")  # type: ignore[arg-type]


def test_empty_strings_are_sent_as_a_space() -> None:
    req = build_embedding_request(["", "x", ""])
    assert req.payload["input"] == [" ", "x", " "]


def test_non_string_inputs_are_refused_with_their_position() -> None:
    with pytest.raises(B3nInvalidRequestError, match="#1"):
        build_embedding_request(["ok", None])  # type: ignore[list-item]
    with pytest.raises(B3nInvalidRequestError, match="not a single string"):
        build_embedding_request("just one")


def test_dimensions_refused_for_ada_and_beyond_model_size() -> None:
    with pytest.raises(B3nInvalidRequestError, match="fixed size"):
        build_embedding_request(["a"], "text-embedding-ada-002", dimensions=256)
    with pytest.raises(B3nInvalidRequestError, match="at most 1536"):
        build_embedding_request(["a"], "text-embedding-3-small", dimensions=2000)
    with pytest.raises(B3nInvalidRequestError, match="positive"):
        build_embedding_request(["a"], "text-embedding-3-small", dimensions=0)
    assert build_embedding_request(["a"], "text-embedding-3-large", dimensions=3072).payload["dimensions"] == 3072
    # unknown models pass through: the relay decides
    assert build_embedding_request(["a"], "my-new-embedder", dimensions=64).payload["dimensions"] == 64


def test_extra_fields_cannot_override_managed_ones() -> None:
    assert build_embedding_request(["a"], extra={"user": "u1"}).payload["user"] == "u1"
    with pytest.raises(B3nInvalidRequestError, match="input"):
        build_embedding_request(["a"], extra={"input": ["b"]})


def test_one_request_is_capped_at_2048_texts() -> None:
    with pytest.raises(B3nInvalidRequestError, match="2048"):
        build_embedding_request(["a"] * 2049)


# ----------------------------------------------------------------------------- responses


def test_base64_decodes_little_endian_float32() -> None:
    values = [0.5, -1.25, 2.0**-25, 123456.0]  # exactly representable in float32
    assert decode_base64_embedding(_b64(values)) == values
    with pytest.raises(B3nResponseError, match="base64"):
        decode_base64_embedding("not base64!!")
    with pytest.raises(B3nResponseError, match="whole number"):
        decode_base64_embedding(base64.b64encode(b"abc").decode())


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("as_numpy", [False, True])
def test_base64_nan_or_infinity_is_refused_but_huge_finite_values_pass(bad: float, as_numpy: bool) -> None:
    import numpy

    request = build_embedding_request(["a", "b"], "text-embedding-3-small")
    huge = [3.0e38, -3.0e38, 0.5]  # finite, with the same top byte as NaN/inf (0x7f / 0xff)
    ok = {"data": [{"index": 0, "embedding": _b64(huge)}, {"index": 1, "embedding": _b64([0.25, 0.5, 0.75])}]}
    parsed = parse_embedding_response(ok, request, numpy=numpy if as_numpy else None)
    first = parsed.array[0].tolist() if as_numpy else parsed.embeddings[0]
    assert first == [struct.unpack("<f", struct.pack("<f", v))[0] for v in huge]
    body = {"data": [{"index": 0, "embedding": _b64([0.5, 0.5])}, {"index": 1, "embedding": _b64([0.5, bad])}]}
    with pytest.raises(B3nResponseError, match=r"embedding #1 .* NaN or infinite"):
        parse_embedding_response(body, request, numpy=numpy if as_numpy else None)


def test_response_is_ordered_by_index_not_position() -> None:
    req = build_embedding_request(["a", "b", "c"])
    body = {
        "data": [
            {"index": 2, "embedding": [2, 2]},
            {"index": 0, "embedding": _b64([0.0, 0.5])},
            {"index": 1, "embedding": [1.0, 1]},
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    res = parse_embedding_response(body, req)
    assert res.embeddings == [[0.0, 0.5], [1.0, 1.0], [2.0, 2.0]]
    assert all(type(x) is float for v in res.embeddings for x in v)  # JSON ints coerced
    assert res.usage is not None and res.usage.prompt_tokens == 3


def test_relay_that_ignores_base64_returns_lists_and_still_works() -> None:
    req = build_embedding_request(["a"])
    res = parse_embedding_response({"data": [{"index": 0, "embedding": [0.1, 0.2]}]}, req)
    assert res.encoding == "float" and res.embeddings == [[0.1, 0.2]] and res.usage is None
    assert res.model == "text-embedding-3-small"  # missing model falls back to the requested one


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"data": [{"index": 0, "embedding": [1.0]}]},  # two texts, one vector
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]},
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 5, "embedding": [1.0]}]},
        {"data": [{"index": 0, "embedding": None}, {"index": 1, "embedding": [1.0]}]},
        {"data": [{"index": 0, "embedding": ["x"]}, {"index": 1, "embedding": [1.0]}]},
        [],
    ],
)
def test_malformed_responses_raise_response_error(body: object) -> None:
    req = build_embedding_request(["a", "b"])
    with pytest.raises(B3nResponseError):
        parse_embedding_response(body, req)


def test_error_object_in_a_200_body_is_a_typed_error() -> None:
    req = build_embedding_request(["a"])
    body = {"error": {"message": "slow down", "code": "rate_limit", "status": 429}}
    with pytest.raises(B3nRateLimitError):
        parse_embedding_response(body, req)


def test_relay_ignoring_dimensions_is_shortened_and_renormalised(caplog: pytest.LogCaptureFixture) -> None:
    req = build_embedding_request(["a"], dimensions=2)
    res = parse_embedding_response({"data": [{"index": 0, "embedding": [3.0, 4.0, 12.0]}]}, req)
    assert res.embeddings == [[0.6, 0.8]]
    assert "ignored dimensions" in caplog.text




# ------------------------------------------------------------------ the whole-answer check agrees


_FLOAT32 = st.floats(width=32, allow_nan=True, allow_infinity=True)


@st.composite
def _answers(draw: st.DrawFn) -> tuple[dict[str, object], int | None]:
    """An answer close to the usual one (base64, in order, one width), with a fault now and then."""
    size = draw(st.integers(1, 4))
    width = draw(st.integers(1, 4))
    items: list[object] = []
    for i in range(size):
        values = draw(st.lists(_FLOAT32, min_size=width, max_size=width + draw(st.sampled_from([0, 0, 0, 1]))))
        embedding: object = _b64(values) if draw(st.integers(0, 9)) else values
        item: object = {"index": i, "embedding": embedding}
        fault = draw(st.sampled_from(["none"] * 12 + ["bool", "float", "missing", "swap", "text", "pad", "list",
                                                       "accent", "space"]))
        if fault == "bool":
            item = {"index": bool(i), "embedding": embedding}
        elif fault == "float":
            item = {"index": float(i), "embedding": embedding}
        elif fault == "missing":
            item = {"embedding": embedding}
        elif fault == "swap":
            item = {"index": size - 1 - i, "embedding": embedding}
        elif fault == "text" and isinstance(embedding, str):
            item = {"index": i, "embedding": embedding[:-1] + "!"}
        elif fault == "pad" and isinstance(embedding, str):
            item = {"index": i, "embedding": embedding.rstrip("=")}
        elif fault in ("accent", "space") and isinstance(embedding, str):  # a relay's text where base64 belongs
            cut = len(embedding) // 2
            item = {"index": i, "embedding": embedding[:cut] + ("é" if fault == "accent" else " \t") + embedding[cut:]}
        elif fault == "list":
            item = [i, embedding]
        items.append(item)
    dimensions = draw(st.sampled_from([None, None, width, width + 1, 1]))
    return {"data": items}, dimensions


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except B3nResponseError as exc:
        return ("error", str(exc))


@settings(max_examples=300, deadline=None, database=None)
@given(_answers(), st.booleans())
def test_usual_answers_decode_as_item_by_item_would(answer: tuple[dict[str, object], int | None],
                                                    as_numpy: bool) -> None:
    """Checking the usual answer as a whole gives what checking each item gives (vectors or the error)."""
    import numpy

    from b3n._embeddings import wire

    body, dimensions = answer
    items = body["data"]
    assert isinstance(items, list)
    request = wire.EmbeddingRequest(model="text-embedding-3-small", payload={}, size=len(items),
                                    dimensions=dimensions)
    np = numpy if as_numpy else None

    def whole() -> object:
        parsed = parse_embedding_response(body, request, numpy=np)
        return parsed.array.tolist() if as_numpy else parsed.embeddings

    def each() -> object:
        vectors, _ = wire._each_item(items, request, np)
        if as_numpy:
            if len({len(v) for v in vectors}) != 1:
                raise B3nResponseError("B3n returned embeddings of different sizes in one batch for "
                                       "'text-embedding-3-small'.")
            return numpy.stack(vectors).tolist()
        return vectors

    assert _outcome(whole) == _outcome(each)
