"""Deterministic embeddings by feature hashing, served fast.

Every lower-cased word is reduced to a crude stem ("cats" and "cat", "sleeps" and "sleep" meet) and hashed
(BLAKE2b) to a dimension and a sign; common English function words ("the", "is", "of", ...) weigh a tenth of
other words, so a document shares *content* words with a query to rank above an unrelated one, as with a real
embedding model. A few dimensions picked by a hash of the whole text get a small deterministic noise (texts with the
same words in another order are near, not identical), a small constant is added to every dimension so no vector is
zero, and the vector is L2-normalised. The JSON of each vector is built as a string (most components are the same
constant), so large batches are cheap.

>>> engine = EmbeddingEngine()
>>> def cos(a, b):
...     return sum(x * y for x, y in zip(engine.vector(a, 256), engine.vector(b, 256)))
>>> query = "How many hours do cats sleep?"
>>> cos(query, "A cat sleeps sixteen hours a day.") > 0.5 > cos(query, "How do you do? What is it?")
True
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
import zlib
from array import array
from collections import OrderedDict
from typing import Any

from .catalog import EMBEDDING_DIMS, check_model
from .errors import invalid
from .textutil import count_tokens

MAX_INPUTS = 2048
_CONSTANT = 0.01
_TOKEN_RE = re.compile(r"\w+")
#: weight of a function word (other words weigh 1), and of each of the text's noise dimensions.
_STOP_WEIGHT = 0.1
_NOISE = 0.12
_NOISE_MULTIPLIERS = (2654435761, 2246822519, 3266489917, 668265263)  # odd 32-bit constants: 4 noise dimensions
_FUNCTION_WORDS = (
    "a an the and or but if then so of to in on at by for with from as into about over under after before "
    "is are was were be been being am do does did done have has had having i me my we our you your he him his "
    "she her it its they them their this that these those what which who whom how when where why there here "
    "not no yes can could will would shall should may might must very just also than too all any some"
)
_STOPWORDS = frozenset(_FUNCTION_WORDS.split())


def _stem(word: str) -> str:
    """A crude English stem: plural and verb endings off (cats/cat, sleeps/sleep, boxes/box, used/use)."""
    n = len(word)
    if n <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and n > 4:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2].endswith(("sh", "ch", "x", "ss", "z")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    if word.endswith("ing") and n > 5:
        return word[:-3]
    if word.endswith("ed") and n > 4:
        return word[:-2]
    return word
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
        """The token's dimension and signed weight (cached per dimension count)."""
        slots = self._token_cache.setdefault(dims, {})
        slot = slots.get(token)
        if slot is None:
            stem = _stem(token)
            h = int.from_bytes(hashlib.blake2b(stem.encode("utf-8"), digest_size=8).digest(), "little")
            weight = _STOP_WEIGHT if token in _STOPWORDS else 1.0
            slot = (h % dims, weight if (h >> 63) & 1 else -weight)
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
        seed = zlib.crc32(text.encode("utf-8", "surrogatepass"))
        for k in _NOISE_MULTIPLIERS:  # a few dimensions picked by the whole text: order and punctuation count a little
            h = (seed * k) & 0xFFFFFFFF
            idx = h % dims
            weights[idx] = weights.get(idx, 0.0) + (_NOISE if h >> 31 else -_NOISE)
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
