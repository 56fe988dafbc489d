"""Embedding batches: how a job's texts are cut into requests (by count, token estimate and the limiter's slots)."""

from __future__ import annotations

from collections.abc import Sequence

from b3n._errors import B3nConfigurationError

#: OpenAI's limit on inputs per request.
MAX_BATCH_SIZE = 2048
#: the most texts a request may carry; jobs are cut into balanced batches below it (see slice_batches).
DEFAULT_BATCH_SIZE = MAX_BATCH_SIZE
#: OpenAI allows ~300k tokens per request; the estimate is approximate, so keep headroom.
DEFAULT_MAX_BATCH_TOKENS = 250_000
#: where the adaptive limiter starts (and its ceiling); it backs off by itself when the relay says 429.
DEFAULT_MAX_CONCURRENCY = 16
#: a job is not split below this many texts per request just to fill the slots (a request's fixed
#: cost, ~0.3 s at a real relay, is worth ~300 texts).
MIN_SPLIT_SIZE = 128


def batch_tokens(text: str) -> int:
    """What ``text`` counts against ``max_batch_tokens``: UTF-8 bytes / 3, upper-leaning (no tokenizer)."""
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    return size // 3 + 1


def slice_batches(
    texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE, max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
) -> list[tuple[int, int]]:
    """Split ``texts`` into contiguous ``(start, stop)`` slices within both limits.

    A single text larger than the token budget gets a batch of its own (the relay decides).

    Example:
        >>> slice_batches(["a"] * 5, batch_size=2)
        [(0, 2), (2, 4), (4, 5)]
        >>> slice_batches(["x" * 30, "y" * 30, "z"], max_batch_tokens=15)
        [(0, 1), (1, 3)]
    """
    batches: list[tuple[int, int]] = []
    start = 0
    tokens = 0
    for i, text in enumerate(texts):
        cost = batch_tokens(text)
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
        raise B3nConfigurationError(
            f"batch_size must be an integer from 1 to {MAX_BATCH_SIZE} (OpenAI's per-request limit), "
            f"got {batch_size!r}."
        )
    if isinstance(max_batch_tokens, bool) or not isinstance(max_batch_tokens, int) or max_batch_tokens < 1:
        raise B3nConfigurationError(
            f"max_batch_tokens must be a positive integer (default {DEFAULT_MAX_BATCH_TOKENS}), "
            f"got {max_batch_tokens!r}."
        )
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise B3nConfigurationError(
            f"max_concurrency must be a positive integer (1 = one request at a time), got {max_concurrency!r}."
        )
