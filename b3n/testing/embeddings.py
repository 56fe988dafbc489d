"""Deterministic embeddings by feature hashing, served fast.

Every lower-cased word token is hashed (BLAKE2b) to a dimension and a sign; a small constant is added
to every dimension so no vector is zero; the vector is L2-normalised. Identical texts get identical
vectors and texts that share words are similar. The JSON of each vector is built as a string (most
components are the same constant), so large batches are cheap.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import math
import re
import sys
import threading
import time
from array import array
from collections import OrderedDict
from typing import Any

from .catalog import EMBEDDING_DIMS, check_model
from .errors import invalid
from .textutil import count_tokens

MAX_INPUTS = 2048
_CONSTANT = 0.01
_TOKEN_RE = re.compile(r"\w+")
_INVALID_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."


def _f32(value: float) -> float:
    """``value`` rounded to float32 (what the upstream computes in)."""
    return float(array("f", (value,))[0])


def _fmt(value: float) -> str:
    """JSON text of the float32 value, like OpenAI's float output (decodes to the base64 bits)."""
    return repr(_f32(value))


class EmbeddingEngine:
    """Computes and caches vectors; thread-safe."""

    def __init__(self, cache_size: int = 4096) -> None:
        self._token_cache: dict[int, dict[str, tuple[int, float]]] = {}  # dims -> token -> (index, sign)
        self._json_cache: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _slot(self, token: str, dims: int) -> tuple[int, float]:
        slots = self._token_cache.setdefault(dims, {})
        slot = slots.get(token)
        if slot is None:
            h = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")
            slot = (h % dims, 1.0 if (h >> 63) & 1 else -1.0)
            if len(slots) < 500_000:
                slots[token] = slot
        return slot

    def sparse(self, text: str, dims: int) -> tuple[dict[int, float], float]:
        """Per-dimension token weights and the normalisation factor."""
        weights: dict[int, float] = {}
        known = self._token_cache.get(dims, {}).get  # the hot path: a relay's compute must not be the client's
        for token in _TOKEN_RE.findall(text.lower()):
            idx, sign = known(token) or self._slot(token, dims)
            weights[idx] = weights.get(idx, 0.0) + sign
        norm_sq = dims * _CONSTANT * _CONSTANT
        for w in weights.values():
            norm_sq += 2 * _CONSTANT * w + w * w
        return weights, 1.0 / math.sqrt(norm_sq)

    def vector(self, text: str, dims: int) -> list[float]:
        """The normalised embedding of ``text`` as a list of (float32-valued) floats."""
        weights, scale = self.sparse(text, dims)
        vec = [_f32(_CONSTANT * scale)] * dims
        for idx, w in weights.items():
            vec[idx] = _f32((_CONSTANT + w) * scale)
        return vec

    def vector_json(self, text: str, dims: int) -> str:
        """The JSON array text of :meth:`vector` (cached)."""
        key = (text, dims)
        with self._lock:
            cached = self._json_cache.get(key)
            if cached is not None:
                self._json_cache.move_to_end(key)
                return cached
        weights, scale = self.sparse(text, dims)
        parts = [_fmt(_CONSTANT * scale)] * dims
        for idx, w in weights.items():
            parts[idx] = _fmt((_CONSTANT + w) * scale)
        out = "[" + ",".join(parts) + "]"
        with self._lock:
            self._json_cache[key] = out
            if len(self._json_cache) > self._cache_size:
                self._json_cache.popitem(last=False)
        return out

    def vector_base64(self, text: str, dims: int) -> str:
        """Base64 of the little-endian float32 vector."""
        weights, scale = self.sparse(text, dims)
        arr = array("f", [_CONSTANT * scale]) * dims
        for idx, w in weights.items():
            arr[idx] = (_CONSTANT + w) * scale
        if sys.byteorder != "little":
            arr.byteswap()
        return binascii.b2a_base64(arr.tobytes(), newline=False).decode("ascii")


def _inputs(raw: Any) -> tuple[list[str], int]:
    """Normalise ``input`` to texts; token arrays become stable pseudo texts. Returns (texts, tokens)."""
    if isinstance(raw, str):
        if raw == "":
            raise invalid(_INVALID_INPUT, param="input")
        return [raw], count_tokens(raw)
    if not isinstance(raw, list) or not raw:
        raise invalid(_INVALID_INPUT, param="input")
    if all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        return [" ".join(f"tok{t}" for t in raw)], len(raw)
    if len(raw) > MAX_INPUTS:
        raise invalid(
            f"'$.input' is invalid: at most {MAX_INPUTS} inputs are allowed per request, got {len(raw)}.",
            param="input",
        )
    texts: list[str] = []
    total = 0
    for item in raw:
        if isinstance(item, str):
            if item == "":
                raise invalid(_INVALID_INPUT, param="input")
            texts.append(item)
            total += count_tokens(item)
        elif isinstance(item, list) and item and all(isinstance(t, int) and not isinstance(t, bool) for t in item):
            texts.append(" ".join(f"tok{t}" for t in item))
            total += len(item)
        else:
            raise invalid(_INVALID_INPUT, param="input")
    return texts, total


#: the OpenAI embedding models' context, in the emulator's pseudo tokens.
CONTEXT_TOKENS = 8192


def _check_context(texts: list[str]) -> None:
    """A text over the context is a 400, like OpenAI's (the whole request fails)."""
    for text in texts:
        if len(text) > CONTEXT_TOKENS // 2:  # only long texts can exceed it; counting is the slow part
            tokens = count_tokens(text)
            if tokens > CONTEXT_TOKENS:
                raise invalid(
                    f"This model's maximum context length is {CONTEXT_TOKENS} tokens, however you requested "
                    f"{tokens} tokens ({tokens} in your prompt; 0 for the completion). Please reduce your prompt; "
                    "or completion length.",
                    param="input",
                )


def embeddings_body(body: Any, engine: EmbeddingEngine) -> bytes:
    """Validate an /v1/embeddings request and return the JSON response bytes."""
    if not isinstance(body, dict):
        raise invalid("Invalid request body: expected a JSON object.")
    model, _family = check_model(body.get("model"), "embeddings")
    if "input" not in body:
        raise invalid("Missing required parameter: 'input'.", param="input")
    native = EMBEDDING_DIMS.get(model, 1536)
    dims = native
    requested = body.get("dimensions")
    if requested is not None:
        if model == "text-embedding-ada-002":
            raise invalid("This model does not support specifying dimensions.", param="dimensions")
        if not isinstance(requested, int) or isinstance(requested, bool) or not 1 <= requested <= native:
            raise invalid(
                f"Invalid 'dimensions': expected an integer between 1 and {native}, got {requested!r}.",
                param="dimensions",
            )
        dims = requested
    fmt = body.get("encoding_format", "float")
    if fmt is None:
        fmt = "float"
    if fmt not in ("float", "base64"):
        raise invalid(f"Invalid value: '{fmt}'. Supported values are: 'float' and 'base64'.", param="encoding_format")
    texts, tokens = _inputs(body["input"])
    _check_context(texts)
    items: list[str] = []
    for i, text in enumerate(texts):
        if i % 32 == 31:  # let the server's other threads read and admit requests meanwhile (a relay would)
            time.sleep(0)
        # (base64 needs no JSON escaping: quoting it is its JSON string)
        vec = engine.vector_json(text, dims) if fmt == "float" else f'"{engine.vector_base64(text, dims)}"'
        items.append(f'{{"object":"embedding","index":{i},"embedding":{vec}}}')
    tail = json.dumps({"prompt_tokens": tokens, "total_tokens": tokens})
    return ('{"object":"list","data":[' + ",".join(items) + f'],"model":{json.dumps(model)},"usage":{tail}}}').encode()
