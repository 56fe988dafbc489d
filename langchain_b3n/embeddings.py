"""``B3nEmbeddings``: LangChain ``Embeddings`` for B3n's OpenAI embedding models.

A thin adapter over ``b3n._embeddings`` (batching by count and token budget, bounded
concurrency, base64 decoding, retries, ordering and empty-string handling live there).

Example (offline, against the bundled emulator):
    >>> from b3n.testing import Emulator
    >>> from langchain_core.vectorstores import InMemoryVectorStore
    >>> with Emulator() as emu:
    ...     emb = B3nEmbeddings(api_key="sk-test", base_url=emu.base_url)
    ...     store = InMemoryVectorStore.from_texts(["cats purr", "dogs bark"], emb)
    ...     store.similarity_search("dogs bark", k=1)[0].page_content
    'dogs bark'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from langchain_core.embeddings import Embeddings
from pydantic import AliasChoices, ConfigDict, Field

from b3n._catalog import get_model_info
from b3n._embeddings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MODEL,
    check_dimensions,
    check_job_options,
)
from b3n._errors import B3nError
from b3n._suggest import warn_unknown_model
from langchain_b3n._arguments import EMBEDDINGS_ACCEPTED, EMBEDDINGS_REFUSED
from langchain_b3n._base import B3nSettings
from langchain_b3n.errors import alangchain_errors, langchain_errors, to_langchain_error

if TYPE_CHECKING:
    from b3n._embeddings import ProgressCallback


class B3nEmbeddings(B3nSettings, Embeddings):
    """Embeddings from B3n (``text-embedding-3-small`` by default; also ``-3-large`` and ``ada-002``).

    Texts are sent in evenly sized batches of at most ``batch_size`` items and an estimated
    ``max_batch_tokens`` tokens, up to ``max_concurrency`` requests at a time (threads for
    ``embed_documents``, asyncio tasks for ``aembed_documents``). Concurrency adapts to the relay:
    on 429 it backs off (honouring ``Retry-After``) and grows again while clean, shared by every
    instance with the same relay, key and ``max_concurrency`` in the process. Each batch is retried
    on 429/5xx/timeouts; finished batches are never re-sent. Empty strings are embedded as
    ``" "`` (OpenAI rejects ``""``). ``dimensions`` shortens ``text-embedding-3-*`` vectors
    and is refused for ``ada-002`` before any request. Errors are both ``B3nError`` and
    LangChain's ``ModelError`` family.

    The API key comes from ``api_key`` or ``B3N_API_KEY``; it never appears in ``repr``,
    serialised output or pickles (a pickle re-reads ``B3N_API_KEY`` when loaded).

    Args:
        model_name: the embedding model, e.g. ``"text-embedding-3-small"`` (also accepted as ``model``).
        dimensions: shorter vectors for ``text-embedding-3-*`` models.
        batch_size: at most this many texts per request (OpenAI's limit is 2048).
        max_batch_tokens: at most about this many tokens per request.
        max_concurrency: requests in flight at most (fewer while the relay answers 429).
        show_progress_bar: show a tqdm progress bar for ``embed_documents``.
        encoding_format: ``"auto"``, ``"base64"`` or ``"float"`` on the wire.
        long_inputs: ``"split"`` a text over the model's context into pieces and average them, or ``"refuse"``.
        model_kwargs: extra fields sent with every request.
        api_key: the ``sk-`` key (default: ``B3N_API_KEY``).
        base_url: the relay URL ending in ``/v1`` (default: ``B3N_BASE_URL``, else ``https://api.b3n.fun/v1``).
        timeout: seconds for connecting, for the response and for each read.
        max_retries: retries of transient failures; 0 turns them off.

    Raises:
        B3nConfigurationError: a setting is malformed.
        B3nInvalidRequestError: ``dimensions`` for a model that has a fixed size, or batch options out of range.

    Example:
        >>> emb = B3nEmbeddings(model="text-embedding-3-large", dimensions=256, api_key="sk-test")
        >>> emb.model, emb.dimensions, "sk-test" in repr(emb)
        ('text-embedding-3-large', 256, False)
    """

    model_config = ConfigDict(
        populate_by_name=True, arbitrary_types_allowed=True, extra="forbid", protected_namespaces=(), defer_build=False
    )

    model: str = Field(default=DEFAULT_MODEL, alias="model_name")
    """Embedding model id, e.g. ``text-embedding-3-small``, ``text-embedding-3-large``, ``text-embedding-ada-002``."""
    dimensions: int | None = None
    """Output size for ``text-embedding-3-*`` (None: the model's full size)."""
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, validation_alias=AliasChoices("batch_size", "chunk_size"))
    """Most texts per request (OpenAI's limit is 2048); jobs are cut into evenly sized batches below it
    (``chunk_size=`` is the same)."""
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    """Estimated tokens per request (OpenAI's limit is ~300k)."""
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    """Most requests in flight, across every instance with the same relay and key in the process; lowered
    automatically while the relay answers 429, raised again while it does not."""
    show_progress_bar: bool = False
    """Show a tqdm progress bar for ``embed_documents`` / ``aembed_documents`` (needs ``pip install tqdm``)."""
    encoding_format: Literal["auto", "float", "base64"] = "auto"
    """``auto``: ask for base64 (smaller, faster) and accept JSON lists from relays that ignore it."""
    long_inputs: Literal["split", "refuse"] = "split"
    """Texts over the model's context (8,191 tokens): ``"split"`` embeds the token-weighted average of their
    pieces (as ``OpenAIEmbeddings`` does); ``"refuse"`` raises before anything is sent."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra payload fields sent with every request (e.g. ``{"user": "id-123"}``)."""


    b3n_refused_arguments: ClassVar[Mapping[str, tuple[tuple[Any, ...], str]]] = EMBEDDINGS_REFUSED
    b3n_extra_hint: ClassVar[str] = "To send a request field B3n does not know, put it in model_kwargs={...}."

    def __init__(self, **kwargs: Any) -> None:
        """Validate the settings and job options; bad ones raise typed B3n errors (no I/O)."""
        for name in EMBEDDINGS_ACCEPTED:  # OpenAIEmbeddings' tokenizer switches: this class always sends text
            kwargs.pop(name, None)
        super().__init__(**kwargs)
        if not get_model_info(self.model).known:
            warn_unknown_model(self.model, "embedding")
        try:
            check_job_options(self.batch_size, self.max_batch_tokens, self.max_concurrency)
            check_dimensions(self.model, self.dimensions)
        except B3nError as exc:
            raise to_langchain_error(exc) from None
        if self.show_progress_bar:
            _require_tqdm()

    def _job(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dimensions": self.dimensions,
            "batch_size": self.batch_size,
            "max_batch_tokens": self.max_batch_tokens,
            "encoding_format": self.encoding_format,
            "max_concurrency": self.max_concurrency,
            "extra": self.model_kwargs or None,
            "long_inputs": self.long_inputs,
        }

    @langchain_errors
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts``; one vector per text, in order."""
        with self._progress(len(texts)) as on_progress:
            return self.client.embeddings.create(texts, on_progress=on_progress, **self._job())

    @langchain_errors
    def embed_documents_array(self, texts: list[str]) -> Any:
        """:meth:`embed_documents` as one numpy ``float32`` array of shape (texts, dimensions) (needs numpy).

        Decoded straight from the wire: 4 bytes a component instead of ~32 as Python floats in lists,
        for jobs too large for lists (and for Ray/pandas/vector stores that take arrays).
        """
        with self._progress(len(texts)) as on_progress:
            return self.client.embeddings.create_array(texts, on_progress=on_progress, **self._job())

    @alangchain_errors
    async def aembed_documents_array(self, texts: list[str]) -> Any:
        """Async :meth:`embed_documents_array`."""
        with self._progress(len(texts)) as on_progress:
            return await self.async_client.embeddings.create_array(texts, on_progress=on_progress, **self._job())

    @langchain_errors
    def embed_query(self, text: str) -> list[float]:
        """Embed one query text."""
        return self.client.embeddings.create([text], **self._job())[0]

    @alangchain_errors
    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` with real async I/O, at most ``max_concurrency`` requests at a time."""
        with self._progress(len(texts)) as on_progress:
            return await self.async_client.embeddings.create(
                texts, on_progress=on_progress, **self._job()
            )

    @alangchain_errors
    async def aembed_query(self, text: str) -> list[float]:
        """Embed one query text (async)."""
        vectors = await self.async_client.embeddings.create([text], **self._job())
        return vectors[0]

    @contextmanager
    def _progress(self, total: int) -> Iterator[ProgressCallback | None]:
        if not self.show_progress_bar or total == 0:
            yield None
            return
        tqdm = _require_tqdm()
        bar = tqdm(total=total, desc="Embedding", unit="text")
        seen = [0]

        def update(done: int, _total: int) -> None:
            bar.update(done - seen[0])
            seen[0] = done

        try:
            yield update
        finally:
            bar.close()


def _require_tqdm() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(
            "show_progress_bar=True needs the tqdm package: run `pip install tqdm` (or set show_progress_bar=False)."
        ) from None
    return tqdm


__all__ = ["B3nEmbeddings"]
