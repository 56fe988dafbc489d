"""Embedding jobs and the ``client.embeddings`` services: every request of a job, run over threads or tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from b3n._embeddings.batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    DEFAULT_MAX_CONCURRENCY,
    balanced_batch_size,
    check_job_options,
    slice_batches,
)
from b3n._embeddings.wire import (
    DEFAULT_MODEL,
    EmbeddingRequest,
    EmbeddingResponse,
    EncodingFormat,
    build_embedding_request,
    check_dimensions,
    check_texts,
    numpy_for_float32,
    parse_embedding_response,
)
from b3n._long_inputs import LongInputs, LongInputSplit, split_long_inputs
from b3n._plans import Plan, Service, arun, run
from b3n._signatures import arguments_of

if TYPE_CHECKING:  # the transport (retry, SSE, adaptive limiter) loads with the first client: off the import
    import httpx

    from b3n._adaptive import AdaptiveLimiter
    from b3n._prepared import CallOptions
    from b3n._transport import AsyncTransport, SyncTransport

PATH = "/embeddings"
#: ``on_progress(texts_done, texts_total)``, called after each finished batch.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class _Job:
    requests: list[EmbeddingRequest]
    offsets: list[int]
    total: int


def _build_job(
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
    for start, stop in slice_batches(items, size, max_batch_tokens):
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


def _send(request: EmbeddingRequest, limiter: AdaptiveLimiter | None, numpy: Any) -> Plan[EmbeddingResponse]:
    """One prepared request as a plan (see :mod:`b3n._plans`): sent as :func:`_call` says, read by :func:`_read`."""
    from b3n._effects import Send

    return _read((yield from Send(_call(request, limiter))), request, numpy)


def _call(request: EmbeddingRequest, limiter: AdaptiveLimiter | None) -> CallOptions:
    """How one request is sent (retried by the transport; each attempt takes a slot of ``limiter``)."""
    from b3n._prepared import CallOptions

    return CallOptions("POST", PATH, json_body=request.payload, model=request.model, gate=limiter)


def _read(response: httpx.Response, request: EmbeddingRequest, numpy: Any) -> EmbeddingResponse:
    """One answer decoded: the one read path of every job (tasks, threads, one request at a time)."""
    from b3n._body import json_or_error

    body = json_or_error(response, f"an embeddings request for {request.model!r}")
    return parse_embedding_response(body, request, len(response.content), numpy=numpy)


@dataclass(frozen=True)
class _EmbeddingCall:
    """One ``create`` / ``create_array`` call, checked (see :func:`_embedding_call`)."""

    long_inputs: LongInputSplit
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
        job = _build_job(
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
        split_long_inputs(check_texts(texts), model, long_inputs), model, dimensions, batch_size, max_batch_tokens,
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
        return run(_send(request, limiter, numpy), self._transport)

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

        Args:
            texts: the texts to embed, any number (an empty text is sent as one space).
            model: the embedding model, e.g. ``"text-embedding-3-small"``.
            dimensions: shorter vectors, for models that take it (``text-embedding-3-*``).
            batch_size: at most this many texts per request (2048 is OpenAI's limit).
            max_batch_tokens: at most about this many tokens per request.
            encoding_format: ``"auto"`` (base64 on the wire, decoded here), ``"base64"`` or ``"float"``.
            max_concurrency: requests in flight at most; the adaptive limiter backs off below it on 429.
            on_progress: ``on_progress(texts_done, texts_total)``, called after each finished batch.
            extra: fields merged into every request body.
            limiter: an adaptive limiter of your own (default: the process's one for this relay and key).
            long_inputs: ``"split"`` embeds a text over the model's context in pieces and averages them;
                ``"refuse"`` raises instead, before anything is sent.

        Returns:
            One vector (a list of floats) per text, in the order of ``texts``.

        Raises:
            B3nInvalidRequestError: a text, ``model`` or option is refused before anything is sent.
            B3nAPIStatusError: the relay refused a batch after the retries (batches not started are not sent).
            B3nTimeoutError: a batch got no answer within ``timeout`` after the retries.
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
        def fetch(request: EmbeddingRequest) -> httpx.Response:
            return self._transport.send(_call(request, limiter))

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
                    request = job.requests[i]
                    results[i] = _vectors(_read(future.result(), request, numpy))
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
        >>> async def embed(url: str) -> list[list[float]]:  # three one-text batches, all in flight at once
        ...     client = AsyncB3nClient(api_key="sk-test", base_url=url)
        ...     return await client.embeddings.create(["a", "b", "c"], dimensions=8, batch_size=1, max_concurrency=3)
        >>> with Emulator() as emu:
        ...     vectors = asyncio.run(embed(emu.base_url))
        ...     requests = emu.count("embeddings")
        >>> len(vectors), len(vectors[0]), requests
        (3, 8, 3)
    """

    def limiter(self, max_concurrency: int = DEFAULT_MAX_CONCURRENCY) -> AdaptiveLimiter:
        """The process's adaptive limiter for this relay, key and ``max_concurrency`` (shared with sync code)."""
        return _limiter_for(self._transport, max_concurrency)

    async def send(
        self, request: EmbeddingRequest, *, limiter: AdaptiveLimiter | None = None, numpy: Any = None
    ) -> EmbeddingResponse:
        """asyncio twin of :meth:`EmbeddingsService.send`."""
        return await arun(_send(request, limiter, numpy), self._transport)

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

