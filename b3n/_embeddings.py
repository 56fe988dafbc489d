"""Embeddings: batching, bounded concurrency, base64 decoding and ordering, once for both frameworks.

``client.embeddings.create(texts, ...)`` turns any number of texts into vectors in input order:

- **batching** by item count (``batch_size``, at most 2048, OpenAI's limit) *and* by an approximate
  token budget (``max_batch_tokens``; OpenAI allows ~300k tokens per request). Tokens are estimated
  without a tokenizer as UTF-8 bytes / 3, which over-counts English (~4 chars/token) and matches CJK
  (3 bytes, ~1 token per character), so batches stay under the limit;
- **concurrency that finds the relay's limit**: at most ``max_concurrency`` requests in flight
  (threads for the blocking client, tasks for asyncio), through one adaptive limiter per relay, key
  and ``max_concurrency`` in the process (``b3n._adaptive``): it starts at ``max_concurrency``,
  backs off on 429 (honouring ``Retry-After``) and grows again while clean, shared by every client
  and every job with that configuration. A failed batch stops the job: batches not yet started are
  never sent, and cancelling an asyncio job cancels (and closes) every request it has in flight;
- **balanced batches**: a job is cut into as few requests as ``batch_size`` allows, but at least
  one per slot of the limiter (for jobs of more than ``MIN_SPLIT_SIZE`` texts per slot) and a whole
  number of requests per slot, all of about the same size, so that every slot is busy until the
  end instead of one big last batch running alone;
- **retries** per batch: the transport retries each request on 429/5xx/timeouts; finished batches
  are never re-sent;
- **wire format**: ``encoding_format="auto"`` (default) asks for base64 (little-endian float32,
  about 3.5x fewer bytes than JSON floats and much cheaper to decode) and decodes it locally with the
  standard library; a relay that ignores the field and returns JSON lists is handled transparently.
  ``"float"`` asks for JSON lists, ``"base64"`` insists on base64 in the request;
- **ordering** by each item's ``index`` (not by position in ``data``);
- **empty strings**: OpenAI rejects ``""`` (400 for the whole batch), so an empty text is sent as a
  single space ``" "``. Its vector is a real, unit-length embedding of blank text with the right
  size, so similarity maths stays finite (a zero vector would give NaN cosine similarities) and the
  job never fails because one chunk was empty;
- ``dimensions`` (3-series and unknown models) is checked before any request: ``text-embedding-ada-002``
  has a fixed size and is refused with :class:`~b3n._errors.B3nInvalidRequestError`.

Example (offline, against the bundled emulator):
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
    ...     vectors = client.embeddings.create(["hello", "world", ""], dimensions=8)
    >>> len(vectors), len(vectors[0]), type(vectors[0][0]).__name__
    (3, 8, 'float')
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import sys
from array import array
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from b3n._catalog import ModelInfo, get_model_info
from b3n._errors import B3nInvalidRequestError, B3nResponseError, listed_items
from b3n._long_inputs import LongInputPlan, LongInputs, plan_long_inputs
from b3n._plans import Plan, Service, arguments_of, arun, run

if TYPE_CHECKING:  # the transport (retry, SSE, adaptive limiter) loads with the first client: off the import
    import httpx

    from b3n._adaptive import AdaptiveLimiter
    from b3n._transport import AsyncTransport, SyncTransport

logger = logging.getLogger("b3n")

PATH = "/embeddings"
DEFAULT_MODEL = "text-embedding-3-small"
#: OpenAI's limit on inputs per request.
MAX_BATCH_SIZE = 2048
#: the most texts a request may carry; jobs are cut into balanced batches below it (see plan_job_batches).
DEFAULT_BATCH_SIZE = MAX_BATCH_SIZE
#: OpenAI allows ~300k tokens per request; the estimate is approximate, so keep headroom.
DEFAULT_MAX_BATCH_TOKENS = 250_000
#: where the adaptive limiter starts (and its ceiling); it backs off by itself when the relay says 429.
DEFAULT_MAX_CONCURRENCY = 16
#: a job is not split below this many texts per request just to fill the slots (a request's fixed
#: cost, ~0.3 s at a real relay, is worth ~300 texts).
MIN_SPLIT_SIZE = 128
#: what an empty string is sent as (OpenAI rejects ``""``).
EMPTY_TEXT_SUBSTITUTE = " "

EncodingFormat = Literal["auto", "float", "base64"]
#: ``on_progress(texts_done, texts_total)``, called after each finished batch.
ProgressCallback = Callable[[int, int], None]

_ENCODINGS = ("auto", "float", "base64")
_MANAGED_KEYS = frozenset({"model", "input", "dimensions", "encoding_format"})
_BIG_ENDIAN = sys.byteorder == "big"


# ----------------------------------------------------------------------------- planning


def estimate_tokens(text: str) -> int:
    """A cheap upper-leaning token estimate: UTF-8 bytes / 3 (no tokenizer download)."""
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    return size // 3 + 1


def plan_batches(
    texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE, max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
) -> list[tuple[int, int]]:
    """Split ``texts`` into contiguous ``(start, stop)`` slices within both limits.

    A single text larger than the token budget gets a batch of its own (the relay decides).

    Example:
        >>> plan_batches(["a"] * 5, batch_size=2)
        [(0, 2), (2, 4), (4, 5)]
        >>> plan_batches(["x" * 30, "y" * 30, "z"], max_batch_tokens=15)
        [(0, 1), (1, 3)]
    """
    batches: list[tuple[int, int]] = []
    start = 0
    tokens = 0
    for i, text in enumerate(texts):
        cost = estimate_tokens(text)
        if i > start and (i - start >= batch_size or tokens + cost > max_batch_tokens):
            batches.append((start, i))
            start, tokens = i, 0
        tokens += cost
    if start < len(texts):
        batches.append((start, len(texts)))
    return batches


def balanced_batch_size(total: int, batch_size: int, slots: int, min_split: int = MIN_SPLIT_SIZE) -> int:
    """The batch size that cuts ``total`` texts into evenly sized requests for ``slots`` parallel slots.

    As few requests as ``batch_size`` allows, rounded up to a whole number per slot (every slot busy
    to the end); a job that fits in fewer requests than slots is still spread over the slots, down
    to ``min_split`` texts a request.

    Example:
        >>> balanced_batch_size(20_000, 2048, 16)   # 16 requests of 1,250 texts, not 10 of 2,048
        1250
        >>> balanced_batch_size(20_000, 2048, 8)    # 8 slots: 16 requests, two rounds
        1250
        >>> balanced_batch_size(1_000, 2048, 16), balanced_batch_size(50, 2048, 16)
        (143, 50)
    """
    if total <= 0:
        return batch_size
    needed = -(-total // batch_size)
    # whole rounds over the slots; a small job is spread over the slots, min_split texts a request at least
    requests = -(-needed // slots) * slots if needed >= slots else max(needed, min(slots, total // min_split))
    return max(1, min(batch_size, -(-total // requests)))


def check_job_options(batch_size: int, max_batch_tokens: int, max_concurrency: int) -> None:
    """Refuse impossible batching/concurrency settings with a message that says what to use."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise B3nInvalidRequestError(
            f"batch_size must be an integer from 1 to {MAX_BATCH_SIZE} (OpenAI's per-request limit), "
            f"got {batch_size!r}."
        )
    if isinstance(max_batch_tokens, bool) or not isinstance(max_batch_tokens, int) or max_batch_tokens < 1:
        raise B3nInvalidRequestError(
            f"max_batch_tokens must be a positive integer (default {DEFAULT_MAX_BATCH_TOKENS}), "
            f"got {max_batch_tokens!r}."
        )
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise B3nInvalidRequestError(
            f"max_concurrency must be a positive integer (1 = one request at a time), got {max_concurrency!r}."
        )


# ----------------------------------------------------------------------------- request


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


# ----------------------------------------------------------------------------- response


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
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise B3nResponseError(
            f"B3n returned an embedding that is neither a list nor valid base64: {data[:60]!r}."
        ) from None
    if len(raw) % 4:
        raise B3nResponseError(
            f"B3n returned a base64 embedding of {len(raw)} bytes, not a whole number of float32 values."
        )
    return raw


def _float32_vector(raw: Any, position: int, np: Any) -> Any:
    """One embedding as a numpy float32 vector, straight from base64 bytes or a JSON list (no Python floats)."""
    if isinstance(raw, str):
        return np.frombuffer(_base64_bytes(raw), dtype="<f4")
    try:
        return np.asarray(raw, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError):
        raise B3nResponseError(f"B3n returned a non-numeric value in embedding #{position}.") from None


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
    raw = _base64_bytes(data)
    values = array("f")
    values.frombytes(raw)
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist()


def _float_list(values: list[Any], position: int) -> list[float]:
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        raise B3nResponseError(f"B3n returned a non-numeric value in embedding #{position}.") from None


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


def parse_embedding_response(
    body: Any, request: EmbeddingRequest, wire_bytes: int = 0, *, numpy: Any = None
) -> EmbeddingResponse:
    """Normalise an ``/embeddings`` body: order by ``index``, decode base64, coerce to float.

    With ``numpy`` (the module) the vectors are decoded straight into one float32 array
    (``EmbeddingResponse.array``) without creating a Python float per component.
    Raises :class:`~b3n._errors.B3nResponseError` when the body cannot be a reply to ``request``.
    """
    model = request.model
    data = listed_items(body, "data", model=model, not_an_object=lambda: _not_an_object(model),
                        missing=lambda: _no_data(body, request))
    if len(data) != request.size:
        raise B3nResponseError(
            f"B3n returned {len(data)} embeddings for {request.size} texts (model {model!r}). Not retried."
        )
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
        if numpy is not None:
            vector = _float32_vector(raw, index, numpy)
        else:
            vector = decode_base64_embedding(raw) if isinstance(raw, str) else _float_list(raw, index)
        if not len(vector):
            raise B3nResponseError(f"B3n returned an empty embedding #{index} for {model!r}.")
        ordered[index] = _fit_dimensions(vector, request.dimensions, model)
    usage = None
    raw_usage = body.get("usage")
    if isinstance(raw_usage, dict):
        prompt = raw_usage.get("prompt_tokens")
        total = raw_usage.get("total_tokens", prompt)
        usage = EmbeddingUsage(
            prompt_tokens=prompt if isinstance(prompt, int) else 0, total_tokens=total if isinstance(total, int) else 0
        )
    vectors = [v for v in ordered if v is not None]
    matrix = None
    if numpy is not None:
        if len({len(v) for v in vectors}) != 1:
            raise B3nResponseError(f"B3n returned embeddings of different sizes in one batch for {model!r}.")
        matrix, vectors = numpy.stack(vectors), []
    return EmbeddingResponse(
        embeddings=vectors, model=body.get("model") or model, usage=usage, encoding=encoding, wire_bytes=wire_bytes,
        array=matrix,
    )


# ----------------------------------------------------------------------------- jobs


@dataclass(frozen=True, slots=True)
class _Job:
    requests: list[EmbeddingRequest]
    offsets: list[int]
    total: int


def _plan_job(
    texts: Sequence[str],
    model: str,
    dimensions: int | None,
    batch_size: int,
    max_batch_tokens: int,
    encoding_format: EncodingFormat,
    max_concurrency: int,
    extra: Mapping[str, Any] | None,
    slots: int | None = None,
) -> _Job:
    """Validate the whole job and build every request before anything is sent.

    ``slots``: requests the limiter lets run now (default ``max_concurrency``); batches are balanced for it.
    """
    check_job_options(batch_size, max_batch_tokens, max_concurrency)
    items = check_texts(texts)
    check_dimensions(model, dimensions)
    requests: list[EmbeddingRequest] = []
    offsets: list[int] = []
    size = balanced_batch_size(len(items), batch_size, slots or max_concurrency)
    for start, stop in plan_batches(items, size, max_batch_tokens):
        requests.append(
            build_embedding_request(
                items[start:stop], model, dimensions=dimensions, encoding_format=encoding_format, extra=extra
            )
        )
        offsets.append(start)
    return _Job(requests, offsets, len(items))


def _vectors(response: EmbeddingResponse) -> Any:
    return response.array if response.array is not None else response.embeddings


def _assemble(results: list[Any], numpy: Any) -> Any:
    """One job's vectors in order: a list of lists, or (``numpy`` given) one float32 array."""
    if numpy is not None:
        return numpy.concatenate(results) if results else numpy.empty((0, 0), dtype=numpy.float32)
    out: list[list[float]] = []
    for vectors in results:
        out.extend(vectors)
    return out


def _limiter_for(transport: SyncTransport | AsyncTransport, max_concurrency: int) -> AdaptiveLimiter:
    from b3n._adaptive import shared_limiter

    config = transport.config
    key = config.api_key.get_secret_value() if config.api_key is not None else None
    return shared_limiter(config.base_url, key, max_concurrency)


def _send(
    transport: SyncTransport | AsyncTransport, request: EmbeddingRequest, limiter: AdaptiveLimiter | None, numpy: Any
) -> Plan[EmbeddingResponse]:
    """One prepared request as a plan (see :mod:`b3n._plans`): retried by the transport, read here."""
    from b3n._body import json_or_error

    response = yield transport.request("POST", PATH, json_body=request.payload, model=request.model, gate=limiter)
    body = json_or_error(response, f"an embeddings request for {request.model!r}")
    return parse_embedding_response(body, request, len(response.content), numpy=numpy)


@dataclass(frozen=True)
class _EmbeddingCall:
    """One ``create`` / ``create_array`` call, checked (see :func:`_embedding_call`)."""

    long_inputs: LongInputPlan
    model: str
    dimensions: int | None
    batch_size: int
    max_batch_tokens: int
    encoding_format: EncodingFormat
    max_concurrency: int
    on_progress: ProgressCallback | None
    extra: Mapping[str, Any] | None
    limiter: AdaptiveLimiter | None

    def job(self, transport: SyncTransport | AsyncTransport) -> tuple[_Job, AdaptiveLimiter]:
        """Every request of the job (balanced for the limiter's slots now), and the limiter."""
        check_job_options(1, 1, self.max_concurrency)
        limiter = self.limiter or _limiter_for(transport, self.max_concurrency)
        job = _plan_job(
            self.long_inputs.texts, self.model, self.dimensions, self.batch_size, self.max_batch_tokens,
            self.encoding_format, self.max_concurrency, self.extra, slots=limiter.limit,
        )
        return job, limiter

    def workers(self, job: _Job) -> int:
        return min(self.max_concurrency, len(job.requests))

    def progress(self, job: _Job) -> Callable[[int], None]:
        """Report a finished batch of ``size`` texts to ``on_progress`` (texts done so far, total)."""
        done = 0

        def finished(size: int) -> None:
            nonlocal done
            done += size
            if self.on_progress is not None:
                self.on_progress(done, job.total)

        return finished

    def result(self, results: list[Any], numpy: Any) -> Any:
        """The job's vectors, one per text given (long texts put back together)."""
        return self.long_inputs.combine(_assemble(results, numpy))


def _embedding_call(
    texts: Sequence[str],
    model: str = DEFAULT_MODEL,
    *,
    dimensions: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
    encoding_format: EncodingFormat = "auto",
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    on_progress: ProgressCallback | None = None,
    extra: Mapping[str, Any] | None = None,
    limiter: AdaptiveLimiter | None = None,
    long_inputs: LongInputs = "split",
) -> _EmbeddingCall:
    """The arguments of ``create`` and ``create_array``, on both clients (declared once, here)."""
    return _EmbeddingCall(
        plan_long_inputs(check_texts(texts), model, long_inputs), model, dimensions, batch_size, max_batch_tokens,
        encoding_format, max_concurrency, on_progress, extra, limiter,
    )


class EmbeddingsService(Service["SyncTransport"]):
    """``client.embeddings``: blocking embeddings (batched, optionally concurrent over threads).

    Example:
        >>> from b3n import B3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     vectors = B3nClient(api_key="sk-test", base_url=emu.base_url).embeddings.create(["a", "b"])
        >>> len(vectors), len(vectors[0])
        (2, 1536)
    """

    def limiter(self, max_concurrency: int = DEFAULT_MAX_CONCURRENCY) -> AdaptiveLimiter:
        """The process's adaptive limiter for this relay, key and ``max_concurrency``."""
        return _limiter_for(self._transport, max_concurrency)

    def send(
        self, request: EmbeddingRequest, *, limiter: AdaptiveLimiter | None = None, numpy: Any = None
    ) -> EmbeddingResponse:
        """Send one prepared request (retried by the transport; each attempt takes a slot of ``limiter``)."""
        return run(_send(self._transport, request, limiter, numpy))

    @arguments_of(build_embedding_request)
    def create_batch(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """Exactly one request for at most 2048 texts; returns vectors plus model, usage and wire size."""
        return self.send(request)

    @arguments_of(_embedding_call)
    def create(self, call: _EmbeddingCall) -> list[list[float]]:
        """Embed any number of texts; one vector per text, in input order.

        Batches run on up to ``max_concurrency`` threads, each request when the adaptive limiter
        (``limiter``, default: the process's one for this relay, key and ``max_concurrency``) has a
        slot for it. The first failure (after the transport's retries) stops the job: batches not
        yet started are never sent.
        """
        vectors: list[list[float]] = self._run(call, None)
        return vectors

    @arguments_of(_embedding_call)
    def create_array(self, call: _EmbeddingCall) -> Any:
        """:meth:`create`, returning one numpy ``float32`` array of shape (texts, dimensions) (needs numpy).

        Vectors are decoded from the wire straight into float32 (4 bytes a component, no Python float
        objects): 100,000 texts x 1,536 dimensions take 0.6 GB instead of ~5 GB of lists.

        Example:
            >>> from b3n import B3nClient
            >>> from b3n.testing import Emulator
            >>> with Emulator() as emu:
            ...     matrix = B3nClient(api_key="sk-test", base_url=emu.base_url).embeddings.create_array(
            ...         ["a", "b", "c"], dimensions=8)
            >>> matrix.shape, matrix.dtype.name
            ((3, 8), 'float32')
        """
        return self._run(call, numpy_for_float32())

    def _run(self, call: _EmbeddingCall, numpy: Any) -> Any:
        job, limiter = call.job(self._transport)
        results: list[Any] = [None] * len(job.requests)
        finished = call.progress(job)
        if call.workers(job) <= 1:
            for i, request in enumerate(job.requests):
                results[i] = _vectors(self.send(request, limiter=limiter, numpy=numpy))
                finished(request.size)
            return call.result(results, numpy)
        from b3n._body import json_or_error

        def fetch(request: EmbeddingRequest) -> httpx.Response:
            return self._transport.request("POST", PATH, json_body=request.payload, model=request.model, gate=limiter)

        # The threads only send and read; this thread decodes each answer as it arrives. One decoder
        # instead of one per thread: decoding is pure CPU under the GIL, and a thread that holds it
        # would delay the others' next request (the slot a finished request frees) by tens of ms.
        pool = ThreadPoolExecutor(max_workers=call.workers(job), thread_name_prefix="b3n-embeddings")
        try:
            futures = {pool.submit(fetch, request): i for i, request in enumerate(job.requests)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    i = futures[future]
                    request, response = job.requests[i], future.result()
                    body = json_or_error(response, f"an embeddings request for {request.model!r}")
                    results[i] = _vectors(parse_embedding_response(body, request, len(response.content), numpy=numpy))
                    finished(request.size)
        finally:
            # On error or interrupt: batches not started are dropped; running ones finish.
            pool.shutdown(wait=True, cancel_futures=True)
        return call.result(results, numpy)


class AsyncEmbeddingsService(Service["AsyncTransport"]):
    """``async_client.embeddings``: asyncio embeddings with bounded concurrency and clean cancellation.

    The same methods and arguments as :class:`EmbeddingsService`, awaited. At most
    ``max_concurrency`` requests are in flight, fewer while the adaptive limiter (shared by every
    job and thread) has backed off after 429s. The first failure cancels the batches still
    running; cancelling the awaiting task does the same, so no request outlives the job.

    Example:
        >>> import asyncio
        >>> from b3n import AsyncB3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = AsyncB3nClient(api_key="sk-test", base_url=emu.base_url)
        ...     vectors = asyncio.run(client.embeddings.create(["a"], dimensions=8))
        >>> len(vectors[0])
        8
    """

    def limiter(self, max_concurrency: int = DEFAULT_MAX_CONCURRENCY) -> AdaptiveLimiter:
        """The process's adaptive limiter for this relay, key and ``max_concurrency`` (shared with sync code)."""
        return _limiter_for(self._transport, max_concurrency)

    async def send(
        self, request: EmbeddingRequest, *, limiter: AdaptiveLimiter | None = None, numpy: Any = None
    ) -> EmbeddingResponse:
        """asyncio twin of :meth:`EmbeddingsService.send`."""
        return await arun(_send(self._transport, request, limiter, numpy))

    @arguments_of(build_embedding_request)
    async def create_batch(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """asyncio twin of :meth:`EmbeddingsService.create_batch`."""
        return await self.send(request)

    @arguments_of(_embedding_call)
    async def create(self, call: _EmbeddingCall) -> list[list[float]]:
        """asyncio twin of :meth:`EmbeddingsService.create` (tasks instead of threads)."""
        vectors: list[list[float]] = await self._run(call, None)
        return vectors

    @arguments_of(_embedding_call)
    async def create_array(self, call: _EmbeddingCall) -> Any:
        """asyncio twin of :meth:`EmbeddingsService.create_array`."""
        return await self._run(call, numpy_for_float32())

    async def _run(self, call: _EmbeddingCall, numpy: Any) -> Any:
        job, limiter = call.job(self._transport)
        results: list[Any] = [None] * len(job.requests)
        finished = call.progress(job)
        queue = iter(range(len(job.requests)))
        failed = False

        async def worker() -> None:
            nonlocal failed
            for i in queue:  # workers share one iterator: each batch is taken exactly once
                if failed:
                    return  # another batch failed: start nothing new
                request = job.requests[i]
                try:
                    results[i] = _vectors(await self.send(request, limiter=limiter, numpy=numpy))
                except BaseException:
                    failed = True
                    raise
                finished(request.size)

        if call.workers(job) <= 1:
            await worker()
            return call.result(results, numpy)
        tasks = [asyncio.ensure_future(worker()) for _ in range(call.workers(job))]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return call.result(results, numpy)


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BATCH_TOKENS",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MODEL",
    "EMPTY_TEXT_SUBSTITUTE",
    "MAX_BATCH_SIZE",
    "MIN_SPLIT_SIZE",
    "AsyncEmbeddingsService",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "EmbeddingsService",
    "EncodingFormat",
    "ProgressCallback",
    "balanced_batch_size",
    "build_embedding_request",
    "check_dimensions",
    "check_job_options",
    "check_texts",
    "decode_base64_embedding",
    "estimate_tokens",
    "numpy_for_float32",
    "parse_embedding_response",
    "plan_batches",
]
