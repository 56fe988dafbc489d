"""``B3nEmbedding``: a LlamaIndex ``BaseEmbedding`` for B3n's OpenAI embedding models.

A thin adapter over ``b3n._embeddings`` (batching by count and token budget, bounded
concurrency, base64 decoding, retries, ordering and empty-string handling live there).
Any model name is accepted (no enum check), so new relay models work without an upgrade.

Example (offline, against the bundled emulator):
    >>> from b3n.testing import Emulator
    >>> from llama_index.core import Document, VectorStoreIndex
    >>> with Emulator() as emu:
    ...     emb = B3nEmbedding(api_key="sk-test", api_base=emu.base_url)
    ...     index = VectorStoreIndex.from_documents([Document(text="cats purr"), Document(text="dogs bark")],
    ...                                             embed_model=emb)
    ...     index.as_retriever(similarity_top_k=1).retrieve("dogs bark")[0].node.get_content()
    'dogs bark'
"""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import ConfigDict, Field, SecretStr
from llama_index.core.callbacks.schema import CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events.embedding import EmbeddingEndEvent, EmbeddingStartEvent

from b3n._embeddings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MODEL,
    EncodingFormat,
    check_dimensions,
    check_job_options,
)
from b3n._lazy import httpx
from b3n._settings import known_argument_names
from b3n._suggest import warn_unknown_model
from llama_index_b3n._arguments import (
    EMBEDDING_MAPPED_NAMES,
    check_reuse_client,
    refuse_unknown,
    refuse_unsupported,
    take_alias,
)
from llama_index_b3n._base import HTTP_CLIENT_ARGS, B3nSettings

dispatcher = get_dispatcher(__name__)


def _known_arguments() -> frozenset[str]:
    return known_argument_names(B3nEmbedding) | frozenset(HTTP_CLIENT_ARGS) | {"openai_api_key", "openai_api_base"}


class B3nEmbedding(B3nSettings, BaseEmbedding):
    """Embeddings from B3n (``text-embedding-3-small`` by default; also ``-3-large`` and ``ada-002``).

    At most ``embed_batch_size`` texts go in one request (jobs are cut into evenly sized batches,
    split further if they exceed an estimated ``max_batch_tokens``); sync and async calls keep at
    most ``max_concurrency`` requests in flight, and fewer while the relay answers 429 (the
    concurrency backs off, honouring ``Retry-After``, and grows again while clean, shared by every
    instance with the same relay, key and ``max_concurrency`` in the process). Each request is
    retried on 429/5xx/timeouts. Empty strings are embedded as ``" "`` (OpenAI rejects ``""``).
    ``dimensions`` shortens ``text-embedding-3-*`` vectors and is refused for ``ada-002``
    before any request.

    The API key (``api_key`` or ``B3N_API_KEY``) never appears in ``repr``, ``to_dict()``,
    ``to_json()``, ``to_payload()`` or pickles (a pickle re-reads ``B3N_API_KEY`` when loaded).

    Args:
        model_name: the embedding model, e.g. ``"text-embedding-3-small"``.
        api_key: the ``sk-`` key (default: ``B3N_API_KEY``).
        api_base: the relay URL ending in ``/v1`` (default: ``B3N_BASE_URL``, else ``https://api.b3n.fun/v1``).
        dimensions: shorter vectors for ``text-embedding-3-*`` models.
        embed_batch_size: at most this many texts per request (2048 at most).
        max_concurrency: requests in flight at most (fewer while the relay answers 429).
        timeout: seconds for connecting, for the response and for each read.
        max_retries: retries of transient failures; 0 turns them off.
        default_headers: extra headers on every request.
        http_client: your own ``httpx.Client``.
        async_http_client: your own ``httpx.AsyncClient``.
        **kwargs: the other settings (``max_batch_tokens``, ``long_inputs``, ``encoding_format``,
            ``show_progress``, ``stream_idle_timeout``, ``total_timeout``, ``verify``, ``proxy``) and LlamaIndex's
            own (``callback_manager``, ``embeddings_cache``, ...).

    Raises:
        B3nConfigurationError: a setting is malformed.
        B3nInvalidRequestError: ``dimensions`` for a model that has a fixed size.

    Example:
        >>> emb = B3nEmbedding(model_name="text-embedding-3-large", dimensions=256, api_key="sk-test")
        >>> emb.to_payload()["dimensions"], "sk-test" in emb.to_json() + repr(emb)
        (256, False)
    """

    model_config = ConfigDict(defer_build=False)  # built at import, as the settings bases are not (b3n._settings)

    model_name: str = Field(default=DEFAULT_MODEL, description="B3n embedding model id.")
    embed_batch_size: int = Field(
        default=DEFAULT_BATCH_SIZE, gt=0, le=2048, description="Most texts per request (OpenAI's limit: 2048)."
    )
    dimensions: int | None = Field(default=None, description="Output size for text-embedding-3-* models.")
    max_batch_tokens: int = Field(default=DEFAULT_MAX_BATCH_TOKENS, description="Estimated tokens per request.")
    max_concurrency: int = Field(
        default=DEFAULT_MAX_CONCURRENCY, description="Most requests in flight (adapts down on 429)."
    )
    show_progress: bool = Field(default=False, description="Default for get_text_embedding_batch(show_progress=).")
    encoding_format: EncodingFormat = Field(
        default="auto", description="auto: ask for base64, accept JSON lists from relays that ignore it."
    )
    long_inputs: Literal["split", "refuse"] = Field(
        default="split",
        description="Texts over the model's context: 'split' embeds the token-weighted average of their pieces; "
        "'refuse' raises before anything is sent.",
    )
    additional_kwargs: dict[str, Any] = Field(default_factory=dict, description="Extra payload fields.")


    def __init__(
        self,
        model_name: str | None = None,
        *,
        api_key: str | SecretStr | None = None,
        api_base: str | None = None,
        dimensions: int | None = None,
        embed_batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int | None = None,
        timeout: float | None = 60.0,
        max_retries: int = 2,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        **kwargs: Any,
    ) -> None:
        named: dict[str, Any] = {"model_name": model_name, "api_base": api_base, **kwargs}
        take_alias(named, "model", "model_name", "B3nEmbedding")
        take_alias(named, "base_url", "api_base", "B3nEmbedding")
        if max_concurrency is None:  # OpenAIEmbedding's num_workers: as many requests in flight
            max_concurrency = named.get("num_workers") or DEFAULT_MAX_CONCURRENCY
        refuse_unsupported(named, "B3nEmbedding")
        check_reuse_client(named, "B3nEmbedding")
        refuse_unknown(named, _known_arguments(), "B3nEmbedding", EMBEDDING_MAPPED_NAMES)
        model_name, api_base = named.pop("model_name") or DEFAULT_MODEL, named.pop("api_base")
        kwargs = named
        fields: dict[str, Any] = {
            "model_name": model_name,
            "api_key": api_key,
            "api_base": api_base,
            "dimensions": dimensions,
            "embed_batch_size": embed_batch_size,
            "max_concurrency": max_concurrency,
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": default_headers,
            "http_client": http_client,
            "async_http_client": async_http_client,
        }
        super().__init__(**fields, **kwargs)
        check_job_options(self.embed_batch_size, self.max_batch_tokens, self.max_concurrency)
        check_dimensions(self.model_name, self.dimensions)
        warn_unknown_model(self.model_name, "embedding")

    @classmethod
    def class_name(cls) -> str:
        return "B3nEmbedding"

    def to_payload(self) -> dict[str, Any]:
        """What observability callbacks see: model and batching, never credentials."""
        return {**super().to_payload(), "dimensions": self.dimensions}

    # ------------------------------------------------------------------ calls

    def _job(self, batch_size: int | None = None) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "dimensions": self.dimensions,
            "batch_size": batch_size or self.embed_batch_size,
            "max_batch_tokens": self.max_batch_tokens,
            "encoding_format": self.encoding_format,
            "max_concurrency": self.max_concurrency,
            "extra": self.additional_kwargs or None,
            "long_inputs": self.long_inputs,
        }

    def _get_query_embedding(self, query: str) -> Embedding:
        return self.client.embeddings.create([query], **self._job())[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self.async_client.embeddings.create([query], **self._job()))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self.client.embeddings.create([text], **self._job())[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self.async_client.embeddings.create([text], **self._job()))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self.client.embeddings.create(texts, **self._job())

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self.async_client.embeddings.create(texts, **self._job())

    @dispatcher.span
    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Embed ``texts`` in ``embed_batch_size`` batches, up to ``max_concurrency`` requests at once.

        LlamaIndex's base loop sends its batches one after another; here the whole list goes to the
        core, which runs the batches concurrently (one embedding start/end event pair for the job).
        With a progress bar, an embeddings cache or a rate limiter, the base loop is used as is.
        """
        show = show_progress or self.show_progress
        if show or self.embeddings_cache is not None or self.rate_limiter is not None:
            return super().get_text_embedding_batch(texts, show_progress=show, **kwargs)
        model_dict = self.to_payload()
        dispatcher.event(EmbeddingStartEvent(model_dict=model_dict))
        with self.callback_manager.event(
            CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: model_dict}
        ) as event:
            embeddings = self._get_text_embeddings(texts) if texts else []
            event.on_end(payload={EventPayload.CHUNKS: texts, EventPayload.EMBEDDINGS: embeddings})
        dispatcher.event(_end_event(texts, embeddings))
        return embeddings

    @dispatcher.span
    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async :meth:`get_text_embedding_batch`: the whole list goes to the core in one job.

        (LlamaIndex's base loop gathers one job per ``embed_batch_size`` slice, which cannot balance
        the batches over the slots.) With a progress bar, a cache or a rate limiter, the base loop is used.
        """
        show = show_progress or self.show_progress
        if show or self.embeddings_cache is not None or self.rate_limiter is not None:
            return await super().aget_text_embedding_batch(texts, show_progress=show, **kwargs)
        model_dict = self.to_payload()
        dispatcher.event(EmbeddingStartEvent(model_dict=model_dict))
        with self.callback_manager.event(
            CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: model_dict}
        ) as event:
            embeddings = await self._aget_text_embeddings(texts) if texts else []
            event.on_end(payload={EventPayload.CHUNKS: texts, EventPayload.EMBEDDINGS: embeddings})
        dispatcher.event(_end_event(texts, embeddings))
        return embeddings


def _end_event(texts: list[str], embeddings: list[Embedding]) -> EmbeddingEndEvent:
    """The job's end event, built without pydantic re-validating (and copying) every vector.

    The vectors are lists of floats checked when decoded; validating 20,000 x 256 of them again took
    ~0.5 s, longer than decoding them.
    """
    return EmbeddingEndEvent.model_construct(chunks=texts, embeddings=embeddings)


__all__ = ["B3nEmbedding"]
