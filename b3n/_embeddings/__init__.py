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

from typing import TYPE_CHECKING, Any

from b3n._embeddings.batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    DEFAULT_MAX_CONCURRENCY,
    MAX_BATCH_SIZE,
    MIN_SPLIT_SIZE,
    balanced_batch_size,
    batch_tokens,
    check_job_options,
    slice_batches,
)
from b3n._embeddings.wire import (
    DEFAULT_MODEL,
    EMPTY_TEXT_SUBSTITUTE,
    EmbeddingRequest,
    EmbeddingResponse,
    EmbeddingUsage,
    EncodingFormat,
    build_embedding_request,
    check_dimensions,
    check_texts,
    decode_base64_embedding,
    numpy_for_float32,
    parse_embedding_response,
)
from b3n._exports import resolve_lazy

if TYPE_CHECKING:
    from b3n._embeddings.service import AsyncEmbeddingsService, EmbeddingsService, ProgressCallback

#: the services (and with them the plans and long-input splitting) load on first use: the framework classes only
#: need the options and checks above until their first call.
_LAZY = dict.fromkeys(("AsyncEmbeddingsService", "EmbeddingsService", "ProgressCallback"), "b3n._embeddings.service")


def __getattr__(name: str) -> Any:
    """A service name, imported on its first use (see ``_LAZY``)."""
    return resolve_lazy(globals(), _LAZY, name)


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
    "batch_tokens",
    "build_embedding_request",
    "check_dimensions",
    "check_job_options",
    "check_texts",
    "decode_base64_embedding",
    "numpy_for_float32",
    "parse_embedding_response",
    "slice_batches",
]

