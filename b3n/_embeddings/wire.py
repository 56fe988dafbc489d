"""The ``/embeddings`` wire: checking and building one request, decoding one answer (base64 or lists, numpy)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from b3n._catalog import ModelInfo, get_model_info
from b3n._embeddings.batching import MAX_BATCH_SIZE
from b3n._errors import B3nInvalidRequestError, B3nResponseError
from b3n._json import count
from b3n._relay_errors import listed_items

logger = logging.getLogger("b3n")

DEFAULT_MODEL = "text-embedding-3-small"
#: what an empty string is sent as (OpenAI rejects ``""``).
EMPTY_TEXT_SUBSTITUTE = " "

EncodingFormat = Literal["auto", "float", "base64"]

_ENCODINGS = ("auto", "float", "base64")
_MANAGED_KEYS = frozenset({"model", "input", "dimensions", "encoding_format"})
_BIG_ENDIAN = sys.byteorder == "big"


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    """One validated ``/embeddings`` request."""

    model: str
    payload: dict[str, Any]
    #: number of inputs.
    size: int
    dimensions: int | None = None


def check_texts(texts: Any) -> list[str]:
    """Validate the inputs and return them as a list, with ``""`` replaced by ``" "``."""
    if isinstance(texts, (str, bytes)):
        raise B3nInvalidRequestError(
            "Pass a list of strings to embed, not a single string (wrap it: [text])."
        )
    try:
        items = list(texts)
    except TypeError:
        raise B3nInvalidRequestError(
            f"Texts to embed must be a list of strings, got {type(texts).__name__}."
        ) from None
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise B3nInvalidRequestError(
                f"Text #{i} to embed is {type(text).__name__}, not str. Convert it (or drop it) before embedding; "
                "token-id lists are not supported through B3n."
            )
    return [text if text else EMPTY_TEXT_SUBSTITUTE for text in items]


def check_dimensions(model: str, dimensions: int | None, info: ModelInfo | None = None) -> int | None:
    """Refuse ``dimensions`` the model cannot honour, before any request is sent."""
    if dimensions is None:
        return None
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1:
        raise B3nInvalidRequestError(f"dimensions must be a positive integer, got {dimensions!r}.")
    info = info or get_model_info(model)
    if info.known and not info.supports_dimensions:
        raise B3nInvalidRequestError(
            f"Model {model!r} has a fixed size ({info.embedding_dimensions} dimensions) and does not accept "
            "`dimensions`. Drop dimensions=..., or use text-embedding-3-small / text-embedding-3-large, which "
            "can return shorter vectors."
        )
    if info.known and info.embedding_dimensions is not None and dimensions > info.embedding_dimensions:
        raise B3nInvalidRequestError(
            f"Model {model!r} returns at most {info.embedding_dimensions} dimensions; got dimensions={dimensions}."
        )
    return dimensions


def build_embedding_request(
    texts: Sequence[str],
    model: str = DEFAULT_MODEL,
    *,
    dimensions: int | None = None,
    encoding_format: EncodingFormat = "auto",
    extra: Mapping[str, Any] | None = None,
) -> EmbeddingRequest:
    """Validate one batch and build its payload (no I/O).

    Example:
        >>> build_embedding_request(["hi", ""], dimensions=256).payload
        {'model': 'text-embedding-3-small', 'input': ['hi', ' '], 'encoding_format': 'base64', 'dimensions': 256}
    """
    if not isinstance(model, str) or not model.strip():
        raise B3nInvalidRequestError(f"model must be a non-empty model name, got {model!r}.")
    if encoding_format not in _ENCODINGS:
        raise B3nInvalidRequestError(f"encoding_format must be one of {_ENCODINGS}, got {encoding_format!r}.")
    items = check_texts(texts)
    if not items:
        raise B3nInvalidRequestError("An embeddings request needs at least one text.")
    if len(items) > MAX_BATCH_SIZE:
        raise B3nInvalidRequestError(
            f"One embeddings request takes at most {MAX_BATCH_SIZE} texts, got {len(items)}. "
            "Use create(), which batches for you."
        )
    dims = check_dimensions(model, dimensions)
    payload: dict[str, Any] = {
        "model": model,
        "input": items,
        "encoding_format": "float" if encoding_format == "float" else "base64",
    }
    if dims is not None:
        payload["dimensions"] = dims
    if extra:
        clash = sorted(_MANAGED_KEYS & set(extra))
        if clash:
            raise B3nInvalidRequestError(
                f"Pass {clash} as their own arguments, not as extra payload fields."
            )
        payload.update(extra)
    return EmbeddingRequest(model=model, payload=payload, size=len(items), dimensions=dims)



@dataclass(frozen=True, slots=True)
class EmbeddingUsage:
    prompt_tokens: int = 0
    total_tokens: int = 0


@dataclass(slots=True)
class EmbeddingResponse:
    """The vectors of one request, in input order."""

    embeddings: list[list[float]]
    model: str
    usage: EmbeddingUsage | None
    #: what the relay actually sent: ``"base64"`` or ``"float"`` (lists).
    encoding: Literal["base64", "float"]
    #: size of the response body in bytes (as decoded by httpx).
    wire_bytes: int = 0
    #: with ``output="float32"``: the vectors as one numpy ``float32`` array of shape (texts, dimensions)
    #: (and ``embeddings`` is empty).
    array: Any = None


def _base64_bytes(data: str) -> bytes:
    try:
        raw = _strict_b64decode(data)
    except (binascii.Error, ValueError):
        raise B3nResponseError(
            f"B3n returned an embedding that is neither a list nor valid base64: {data[:60]!r}."
        ) from None
    if len(raw) % 4:
        raise B3nResponseError(
            f"B3n returned a base64 embedding of {len(raw)} bytes, not a whole number of float32 values."
        )
    return raw


def _strict_b64decode(data: str) -> bytes:
    if sys.version_info >= (3, 11):  # the C decoder checks the alphabet and padding itself
        return binascii.a2b_base64(data, strict_mode=True)
    return base64.b64decode(data, validate=True)


def _float32_vector(raw: Any, position: int, np: Any) -> Any:
    """One embedding as a numpy float32 vector, straight from base64 bytes or a JSON list (no Python floats)."""
    if isinstance(raw, (bytes, str)):
        return np.frombuffer(raw if isinstance(raw, bytes) else _base64_bytes(raw), dtype="<f4")
    try:
        return np.asarray(raw, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise B3nResponseError(f"B3n returned a non-numeric value in embedding #{position}.") from None


def _surely_finite(raw: bytes) -> bool:
    """True when no little-endian float32 in ``raw`` can be NaN or infinite (a byte-level check at C speed).

    A non-finite float32 has all exponent bits set, so its top byte is 0x7f or 0xff; a normalised embedding
    never has one (only magnitudes from 2**127 up do), and the exact check runs only then.
    """
    top = raw[3::4]
    return b"\x7f" not in top and b"\xff" not in top


def numpy_for_float32() -> Any:
    """numpy, for ``output="float32"``; a clear error when it is not installed."""
    try:
        import numpy
    except ImportError:
        raise B3nInvalidRequestError(
            'output="float32" returns a numpy array and needs numpy: pip install numpy '
            '(or b3n-integrations[numpy]); or leave output="list".'
        ) from None
    return numpy


def decode_base64_embedding(data: str) -> list[float]:
    """Decode OpenAI's base64 embedding (little-endian float32) into Python floats.

    Example:
        >>> decode_base64_embedding("AACAPwAAAMA=")
        [1.0, -2.0]
    """
    return _floats(_base64_bytes(data))


def _floats(raw: bytes) -> list[float]:
    values = array("f", raw)
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist()


def _float_list(values: list[Any], position: int) -> list[float]:
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError, OverflowError):
        raise B3nResponseError(f"B3n returned a non-numeric value in embedding #{position}.") from None


def _finite(vector: Any, index: int, model: str) -> None:
    """Refuse a vector holding NaN or infinity (it would poison a vector store's distances)."""
    total = sum(vector) if isinstance(vector, list) else float(vector.sum(dtype="float64"))
    if not math.isfinite(total):
        raise B3nResponseError(
            f"B3n returned embedding #{index} for {model!r} with NaN or infinite values. Not retried; try again."
        )


def _fit_dimensions(vector: Any, dimensions: int | None, model: str) -> Any:
    """Shorten a full-size vector the relay sent despite ``dimensions`` (truncate + L2-normalise; lists or numpy)."""
    if dimensions is None or len(vector) == dimensions:
        return vector
    if len(vector) < dimensions:
        raise B3nResponseError(
            f"B3n returned {len(vector)}-dimensional vectors for {model!r}, fewer than dimensions={dimensions}."
        )
    logger.warning(
        "B3n ignored dimensions=%d for %r (returned %d); truncating and re-normalising locally, "
        "which is how OpenAI shortens text-embedding-3 vectors.", dimensions, model, len(vector),
    )
    head = vector[:dimensions]
    if not isinstance(head, list):  # a numpy float32 vector
        norm = float((head.astype("float64") ** 2).sum()) ** 0.5
        return (head / norm).astype(head.dtype) if norm else head
    norm = math.sqrt(math.fsum(v * v for v in head))
    return [v / norm for v in head] if norm else head


def _not_an_object(model: str) -> str:
    return f"B3n answered the embeddings request for {model!r} with a non-object body."


def _no_data(body: Mapping[str, Any], request: EmbeddingRequest) -> str:
    items = body.get("data")
    count = len(items) if isinstance(items, list) else "no"
    return (f"B3n returned no embedding data for {request.model!r} ({count} items for {request.size} texts): "
            f"{json.dumps(body)[:200]}. Not retried; check the model name.")


def _uniform_base64(data: list[Any], dimensions: int | None) -> list[bytes] | None:
    """The raw float32 bytes of the usual answer, checked as a whole; ``None`` for anything else.

    The usual answer: every item an object whose ``index`` is its position (or absent) and whose ``embedding`` is
    valid base64 of the same non-zero whole number of float32 values, all finite, as many as ``dimensions`` asks.
    Checking those with a few C-level passes instead of a dozen calls per item takes about a quarter off decoding
    a large answer. Anything else goes through :func:`_each_item`, which reorders, shortens or names the fault.
    """
    try:
        strings = [item["embedding"] for item in data]
        indexes = [item.get("index", position) for position, item in enumerate(data)]
    except (TypeError, KeyError, AttributeError):  # an item that is not an object, or has no embedding
        return None
    if set(map(type, strings)) != {str} or set(map(type, indexes)) != {int} or indexes != list(range(len(data))):
        return None
    try:
        raws = [_strict_b64decode(text) for text in strings]
    except (binascii.Error, ValueError):
        return None
    widths = set(map(len, raws))
    width = widths.pop() if len(widths) == 1 else 0
    if not width or width % 4 or (dimensions is not None and width != 4 * dimensions):
        return None
    return raws if all(map(_surely_finite, raws)) else None


def _each_item(data: list[Any], request: EmbeddingRequest, numpy: Any) -> tuple[list[Any], Literal["base64", "float"]]:
    """The vectors in ``index`` order, item by item: lists or base64, checked, shortened to ``dimensions``."""
    model = request.model
    ordered: list[Any] = [None] * request.size
    encoding: Literal["base64", "float"] = "float"
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            raise B3nResponseError(f"B3n returned a malformed embeddings item #{position}: {item!r:.80}.")
        index = item.get("index", position)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < request.size:
            raise B3nResponseError(f"B3n returned embedding index {index!r} for a batch of {request.size}.")
        if ordered[index] is not None:
            raise B3nResponseError(f"B3n returned two embeddings with index {index}.")
        raw = item.get("embedding")
        if not isinstance(raw, (str, list)):
            raise B3nResponseError(f"B3n returned embedding #{index} as {type(raw).__name__}, not a list.")
        if isinstance(raw, str):
            encoding = "base64"
        wire = _base64_bytes(raw) if isinstance(raw, str) else None
        if numpy is not None:
            vector = _float32_vector(raw if wire is None else wire, index, numpy)
        elif isinstance(raw, list):
            vector = _float_list(raw, index)
        else:
            vector = _floats(wire or b"")
        if not len(vector):
            raise B3nResponseError(f"B3n returned an empty embedding #{index} for {model!r}.")
        if wire is None or not _surely_finite(wire):
            _finite(vector, index, model)
        ordered[index] = _fit_dimensions(vector, request.dimensions, model)
    return [v for v in ordered if v is not None], encoding


def parse_embedding_response(
    body: Any, request: EmbeddingRequest, wire_bytes: int = 0, *, numpy: Any = None
) -> EmbeddingResponse:
    """Normalise an ``/embeddings`` body: order by ``index``, decode base64, coerce to float.

    With ``numpy`` (the module) the vectors are decoded straight into one float32 array
    (``EmbeddingResponse.array``) without creating a Python float per component.
    Raises :class:`~b3n._errors.B3nResponseError` when the body cannot be a reply to ``request``.

    Example:
        >>> request = build_embedding_request(["hi", "yo"])
        >>> body = {"data": [{"index": 1, "embedding": [0.0, 1.0]}, {"index": 0, "embedding": "AACAPwAAAAA="}]}
        >>> parse_embedding_response(body, request).embeddings
        [[1.0, 0.0], [0.0, 1.0]]
    """
    model = request.model
    data = listed_items(body, "data", model=model, not_an_object=lambda: _not_an_object(model),
                        missing=lambda: _no_data(body, request))
    if len(data) != request.size:
        raise B3nResponseError(
            f"B3n returned {len(data)} embeddings for {request.size} texts (model {model!r}). Not retried."
        )
    encoding: Literal["base64", "float"] = "base64"
    raws = _uniform_base64(data, request.dimensions)
    matrix = None
    if raws is None:
        vectors, encoding = _each_item(data, request, numpy)
        if numpy is not None:
            if len({len(v) for v in vectors}) != 1:
                raise B3nResponseError(f"B3n returned embeddings of different sizes in one batch for {model!r}.")
            matrix, vectors = numpy.stack(vectors), []
    elif numpy is not None:  # one copy, native float32 and writable
        matrix, vectors = numpy.frombuffer(b"".join(raws), dtype="<f4").reshape(len(raws), -1).astype("float32"), []
    else:
        vectors = [_floats(raw) for raw in raws]
    usage = None
    raw_usage = body.get("usage")
    if isinstance(raw_usage, dict):
        prompt = count(raw_usage.get("prompt_tokens")) or 0
        total = count(raw_usage.get("total_tokens")) or prompt
        usage = EmbeddingUsage(prompt_tokens=prompt, total_tokens=total)
    return EmbeddingResponse(
        embeddings=vectors, model=body.get("model") or model, usage=usage, encoding=encoding, wire_bytes=wire_bytes,
        array=matrix,
    )
