"""Embedding inputs longer than the model's context, split (or refused) before anything is sent.

``long_inputs="split"`` (the default, as LangChain's ``OpenAIEmbeddings`` does): a text over the model's
context (8,191 tokens for the OpenAI embedding models) is cut into pieces that fit, every piece is embedded,
and the text's vector is the average of its pieces' vectors weighted by their token counts, scaled back to
unit length. ``long_inputs="refuse"``: the job is refused with a typed error naming the texts, before the
first request. Either way a 10,000-text job never meets a relay 400 halfway.

Tokens are counted with :mod:`b3n._tokens` (tiktoken's ``cl100k_base`` when its file is on the machine);
with the estimate, pieces are cut 10% short of the limit to stay on the safe side.

Example:
    >>> split = split_long_inputs(["short", "word " * 20_000], "text-embedding-3-small", "split")
    >>> len(split.texts) > 2, split.owners[0], set(split.owners[1:])
    (True, 0, {1})
    >>> split.combine([[1.0, 0.0]] + [[0.0, 1.0]] * (len(split.texts) - 1))[1]
    [0.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from b3n._catalog import get_model_info
from b3n._errors import B3nInvalidRequestError

LongInputs = Literal["split", "refuse"]
LONG_INPUT_POLICIES: tuple[str, ...] = ("split", "refuse")
#: the OpenAI embedding models' context (also used for unknown embedding models).
DEFAULT_EMBEDDING_CONTEXT = 8_191


@dataclass
class LongInputSplit:
    """The texts to send (long ones cut into pieces) and how to put their vectors back together."""

    texts: list[str]
    #: index of the original text each piece belongs to.
    owners: list[int]
    #: token count of each piece (the averaging weight).
    weights: list[int]
    total: int

    @property
    def split(self) -> bool:
        return len(self.texts) != self.total

    def combine(self, vectors: Any) -> Any:
        """One vector per original text (lists in, lists out; a numpy array in, a float32 array out)."""
        if not self.split:
            return vectors
        groups: dict[int, list[int]] = {}
        for i, owner in enumerate(self.owners):
            groups.setdefault(owner, []).append(i)
        if hasattr(vectors, "shape"):  # numpy
            import numpy as np

            out = np.empty((self.total, vectors.shape[1]), dtype=np.float32)
            for owner, rows in groups.items():
                weights = np.asarray([self.weights[r] for r in rows], dtype=np.float64)
                mean = (vectors[rows].astype(np.float64) * weights[:, None]).sum(axis=0) / weights.sum()
                norm = float(np.linalg.norm(mean))
                out[owner] = mean / norm if len(rows) > 1 and norm > 0 else mean
            return out
        result: list[list[float]] = []
        for owner in range(self.total):
            rows = groups[owner]
            if len(rows) == 1:
                result.append(list(vectors[rows[0]]))
                continue
            total_weight = float(sum(self.weights[r] for r in rows))
            dims = len(vectors[rows[0]])
            mean = [sum(vectors[r][d] * self.weights[r] for r in rows) / total_weight for d in range(dims)]
            norm = math.sqrt(sum(x * x for x in mean))
            result.append([x / norm for x in mean] if norm > 0 else mean)
        return result


def _pieces(text: str, limit: int, counter: Any) -> list[tuple[str, int]]:
    """``text`` cut into pieces of at most ``limit`` tokens, with their counts."""
    ids = counter.token_ids(text)
    if ids is not None:  # exact: cut the token ids, decode each window
        encoding = counter._encoding
        out = []
        for start in range(0, len(ids), limit):
            window = ids[start : start + limit]
            out.append((encoding.decode(window), len(window)))
        return out
    budget = int(limit * 0.9)  # the estimate is within ~10%: stay under the limit anyway
    pieces: list[tuple[str, int]] = []
    rest = text
    while rest:
        tokens = counter.count_text(rest)
        if tokens <= budget:
            pieces.append((rest, tokens))
            break
        cut = max(1, int(len(rest) * budget / tokens))
        space = rest.rfind(" ", int(cut * 0.8), cut)  # prefer a word boundary
        cut = space if space > 0 else cut
        piece = rest[:cut]
        pieces.append((piece, counter.count_text(piece)))
        rest = rest[cut:]
    return pieces


def split_long_inputs(texts: Sequence[str], model: str, policy: str = "split") -> LongInputSplit:
    """Check every text against ``model``'s context; cut (``"split"``) or refuse (``"refuse"``) long ones."""
    if policy not in LONG_INPUT_POLICIES:
        raise B3nInvalidRequestError(
            f"long_inputs={policy!r} is not understood; use 'split' (cut and average, the default) or 'refuse'."
        )
    info = get_model_info(model) if isinstance(model, str) else None
    limit = info.context_window if info is not None and info.kind == "embedding" and info.context_window else 0
    limit = limit or DEFAULT_EMBEDDING_CONTEXT
    counter: Any = None  # loaded for the first text that could be long (reading tiktoken's file takes ~0.5 s)
    out_texts: list[str] = []
    owners: list[int] = []
    weights: list[int] = []
    too_long: list[tuple[int, int]] = []
    for index, text in enumerate(texts):
        if not isinstance(text, str):  # check_texts reports the bad input with its own message
            out_texts.append(text)
            owners.append(index)
            weights.append(1)
            continue
        # a token is at least one UTF-8 byte, so a text of at most limit/4 characters always fits
        tokens = 0
        if len(text) * 4 > limit:
            if counter is None:
                from b3n._tokens import token_counter  # ~12 ms to import (its regexes): only for long texts

                counter = token_counter(model if isinstance(model, str) else "text-embedding-3-small")
            tokens = counter.count_text(text)
        if tokens <= limit:
            out_texts.append(text)
            owners.append(index)
            weights.append(max(tokens, 1))
            continue
        if policy == "refuse":
            too_long.append((index, tokens))
            continue
        for piece, count in _pieces(text, limit, counter):
            out_texts.append(piece)
            owners.append(index)
            weights.append(max(count, 1))
    if too_long:
        shown = ", ".join(f"#{i} ({n:,} tokens)" for i, n in too_long[:5])
        more = f" and {len(too_long) - 5} more" if len(too_long) > 5 else ""
        raise B3nInvalidRequestError(
            f"{len(too_long)} text(s) exceed {model}'s context of {limit:,} tokens: {shown}{more}. Nothing was "
            "sent. Shorten or chunk them, or pass long_inputs='split' to embed each as the weighted average of "
            "its pieces."
        )
    return LongInputSplit(out_texts, owners, weights, len(texts))
