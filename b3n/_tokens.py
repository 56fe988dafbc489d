"""Token counting for every B3n model, offline, never raising and never touching the network.

GPT-family models are counted with tiktoken (``o200k_base`` for gpt-4o / gpt-4.1 / gpt-5 / o-series,
``cl100k_base`` for gpt-4, gpt-3.5 and the embedding models) when the encoding's file is already on
this machine. tiktoken itself downloads that file on first use; here it is only ever *read*, from:

1. ``TIKTOKEN_CACHE_DIR`` / ``DATA_GYM_CACHE_DIR`` / ``<tmp>/data-gym-cache`` (tiktoken's own cache,
   filled by any earlier ``tiktoken.get_encoding`` call with network access), then
2. the copy that ``llama-index-core`` ships (``llama_index/core/_static/tiktoken_cache``), found on
   ``sys.path`` without importing LlamaIndex.

A file is used only when its SHA-256 matches the published one; ``B3N_TOKENIZER=estimate`` turns
tiktoken off. Everything else (Claude, Gemini,
unknown names, or no tiktoken / no file) gets a calibrated estimate: text is split the way the GPT
pre-tokenizer splits it and each piece is priced by script and length. Measured against
``cl100k_base`` / ``o200k_base`` on English prose, Python source, JSON and Chinese text the estimate
lands within ±10% (see ``tests/unit/test_tokens.py``). Claude and Gemini do not publish their
tokenizers: their counts are the ``o200k_base`` count (or the estimate) times a safety margin
(:data:`FAMILY_MARGIN`) so that trimming errs on the side of fitting.

Chat messages are counted the way OpenAI bills them: 3 tokens per message plus its role and content,
1 more for a ``name``, 3 to prime the reply; tool schemas add a per-function frame plus the tokens of
their names, descriptions, parameter names, types, descriptions and enum values; images are priced by
``detail`` (85 for ``low``, 765 otherwise: one 1024x1024 image in high detail).

Example:
    >>> counter = token_counter("claude-3-5-sonnet-latest")
    >>> counter.count_text("") , counter.count_text("hello world") > 0
    (0, True)
    >>> counter.count_messages([{"role": "user", "content": "hi"}]) > counter.count_text("hi")
    True
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

EncodingName = Literal["o200k_base", "cl100k_base"]

_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
#: SHA-256 of the published encoding files (a cached file is used only when it matches).
_SHA256: dict[str, str] = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
# The pre-tokenizer patterns and special tokens of the two encodings (public constants of tiktoken's
# encoding definitions; the merge ranks come from the file).
_PATTERNS: dict[str, str] = {
    "cl100k_base": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
    "o200k_base": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
}
_SPECIAL: dict[str, dict[str, int]] = {
    "cl100k_base": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
    "o200k_base": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
}

#: Claude and Gemini tokenizers are not public: their counts are scaled by this margin (>= 1 so that
#: ``trim_messages`` keeps a little headroom rather than overflowing the context).
FAMILY_MARGIN: dict[str, float] = {"anthropic": 1.15, "google": 1.05}

#: ``B3N_TOKENIZER=estimate`` makes every count the estimate (the same numbers on every machine).
ENV_TOKENIZER = "B3N_TOKENIZER"

#: OpenAI's billing of chat framing (tokens).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
IMAGE_TOKENS_LOW = 85
IMAGE_TOKENS_HIGH = 765


@dataclass(frozen=True)
class _ToolFraming:
    """Tokens OpenAI adds around function definitions (per function, per parameter block, per enum)."""

    func_init: int
    prop_init: int
    prop_key: int
    enum_init: int
    enum_item: int
    func_end: int


_FRAMING_O200K = _ToolFraming(7, 3, 3, -3, 3, 12)
_FRAMING_CL100K = _ToolFraming(10, 3, 3, -3, 3, 12)


# ----------------------------------------------------------------------------- which encoding


def encoding_for_model(model: str) -> EncodingName:
    """The OpenAI encoding of ``model`` (``o200k_base`` for current and unknown models).

    Example:
        >>> encoding_for_model("gpt-4o-mini"), encoding_for_model("gpt-3.5-turbo"), encoding_for_model("o3-mini")
        ('o200k_base', 'cl100k_base', 'o200k_base')
    """
    low = model.lower()
    if low.startswith(("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "gpt-image")):
        return "o200k_base"
    if low.startswith(("gpt-4", "gpt-3.5", "text-embedding", "gpts", "search-gpts")):
        return "cl100k_base"
    return "o200k_base"


def _family(model: str) -> str:
    low = model.lower()
    if low.startswith("claude"):
        return "anthropic"
    if low.startswith("gemini"):
        return "google"
    return "openai"


# ----------------------------------------------------------------------------- loading without network


def _cache_dirs() -> list[str]:
    dirs: list[str] = []
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        value = os.environ.get(var)
        if value:
            dirs.append(value)
    import tempfile  # only here: importing it costs ~10 ms, paid by every `import langchain_b3n` otherwise

    dirs.append(os.path.join(tempfile.gettempdir(), "data-gym-cache"))
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "llama_index", "core", "_static", "tiktoken_cache")
        if os.path.isdir(candidate):
            dirs.append(candidate)
    return dirs


def _read_local_ranks(name: str) -> dict[bytes, int] | None:
    """The merge ranks of ``name`` from a file already on disk with the right hash, else None."""
    key = hashlib.sha1(_URL.format(name).encode()).hexdigest()
    for directory in _cache_dirs():
        path = os.path.join(directory, key)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() != _SHA256[name]:
            continue
        ranks: dict[bytes, int] = {}
        for line in data.splitlines():
            if line:
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
        return ranks
    return None


_LOCK = threading.Lock()
_ENCODINGS: dict[str, Any] = {}


def load_encoding(name: EncodingName) -> Any | None:
    """A ``tiktoken.Encoding`` for ``name`` built from a local file, or None (no tiktoken, no file).

    Never downloads: tiktoken's own ``get_encoding`` would fetch the file on first use.
    """
    with _LOCK:
        if name in _ENCODINGS:
            return _ENCODINGS[name]
        encoding: Any | None = None
        try:
            import tiktoken
        except ImportError:
            tiktoken = None  # type: ignore[assignment]
        if tiktoken is not None:
            ranks = _read_local_ranks(name)
            if ranks is not None:
                encoding = tiktoken.Encoding(
                    name=name, pat_str=_PATTERNS[name], mergeable_ranks=ranks, special_tokens=_SPECIAL[name]
                )
        _ENCODINGS[name] = encoding
        return encoding


# ----------------------------------------------------------------------------- the estimate

# Pieces as the GPT pre-tokenizers cut them: contractions, letter runs with one leading non-letter,
# digit groups of up to 3, punctuation runs, newlines, other whitespace.
_PIECE = re.compile(
    r"'(?:[sdmtSDMT]|ll|ve|re)|[^\r\n\w]?[^\W\d_]+|\d{1,3}| ?[^\s\w]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


#: tokens per CJK character (o200k_base packs them tighter than cl100k_base).
_CJK_RATE: dict[str, float] = {"o200k_base": 0.76, "cl100k_base": 1.05}


def _letters_cost(letters: int, *, spaced: bool, prefixed: bool) -> float:
    if prefixed:  # "_name", ".attr", "(word": the prefix often stays its own token
        return 1.05 + 0.06 * letters if letters <= 7 else 1.47 + 0.15 * (letters - 7)
    if letters <= 4:
        return 1.03
    if spaced:
        return 1.06 if letters <= 8 else 1.06 + 0.12 * (letters - 8)
    return 1.12 if letters <= 6 else 1.2 + 0.25 * (letters - 7)


def _piece_cost(piece: str, cjk_rate: float) -> float:
    if piece.isspace():
        return 1.0 if "\n" in piece or len(piece) <= 24 else len(piece) / 24
    if piece.isascii():
        word = piece.lstrip(" ")
        if word.isalpha():
            return _letters_cost(len(word), spaced=word != piece, prefixed=False)
        if len(word) > 1 and not word[0].isalnum() and word[1:].isalpha():
            return _letters_cost(len(word) - 1, spaced=False, prefixed=True)
        if word.isdigit():
            return 1.0
        run = len(word.strip("\r\n"))
        return 1.0 if run <= 2 else 0.5 * run - 0.1
    cjk = len(_CJK.findall(piece))
    other = len(piece) - cjk
    return cjk * cjk_rate + other / 2.6


def estimate_tokens(text: str, encoding: EncodingName = "o200k_base") -> int:
    """A tokenizer-free estimate of the ``encoding`` count of ``text`` (within about ±10%).

    Example:
        >>> estimate_tokens(""), estimate_tokens("Hello, world!")
        (0, 4)
    """
    if not text:
        return 0
    rate = _CJK_RATE[encoding]
    return max(1, round(sum(_piece_cost(m.group(), rate) for m in _PIECE.finditer(text))))


# ----------------------------------------------------------------------------- counters


def _content_parts(content: Any) -> tuple[str, list[str]]:
    """(text, image details) of a message content: a string or a list of OpenAI parts."""
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    images: list[str] = []
    if isinstance(content, Sequence):
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping):
                kind = part.get("type")
                if kind == "text":
                    texts.append(str(part.get("text") or ""))
                elif kind == "image_url":
                    image = part.get("image_url")
                    detail = image.get("detail") if isinstance(image, Mapping) else None
                    images.append(str(detail or "auto"))
    return "".join(texts), images


@dataclass(frozen=True)
class TokenCounter:
    """Counts tokens for one model. ``method`` says how: ``"tiktoken:o200k_base"`` or ``"estimate"``.

    Example:
        >>> counter = token_counter("gemini-1.5-flash-latest")
        >>> counter.method in ("estimate", "tiktoken:o200k_base")
        True
    """

    model: str
    encoding_name: EncodingName
    method: str
    margin: float
    _encoding: Any = None

    @property
    def exact(self) -> bool:
        """True when counts are tiktoken's own for an OpenAI model (no estimate, no margin)."""
        return self.method.startswith("tiktoken:") and self.margin == 1.0

    def _raw(self, text: str) -> int:
        if not text:
            return 0
        if self._encoding is not None:
            return len(self._encoding.encode(text, disallowed_special=()))
        return estimate_tokens(text, self.encoding_name)

    def count_text(self, text: str) -> int:
        """Tokens in ``text`` (0 for empty text)."""
        raw = self._raw(text)
        return raw if self.margin == 1.0 else math.ceil(raw * self.margin)

    def token_ids(self, text: str) -> list[int] | None:
        """tiktoken ids of ``text`` when :attr:`exact`, else None (estimated or scaled counts)."""
        if not self.exact:
            return None
        return list(self._encoding.encode(text, disallowed_special=()))

    def tokenize(self, text: str) -> list[int]:
        """A list as long as the count of ``text``: tiktoken's ids when :attr:`exact`, else placeholders (0s).

        This is the ``Callable[[str], list]`` shape LlamaIndex's ``TokenCountingHandler``, memory
        buffers and ``Settings.tokenizer`` take: they only use the length.
        """
        if self.exact:
            return list(self._encoding.encode(text, disallowed_special=()))
        return [0] * self.count_text(text)

    def count_messages(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None = None
    ) -> int:
        """Prompt tokens of OpenAI-format ``messages`` (and ``tools``), counted the way OpenAI bills them."""
        raw = 0
        images = 0
        for message in messages:
            raw += TOKENS_PER_MESSAGE
            raw += self._raw(str(message.get("role") or ""))
            text, details = _content_parts(message.get("content"))
            raw += self._raw(text)
            images += sum(IMAGE_TOKENS_LOW if d == "low" else IMAGE_TOKENS_HIGH for d in details)
            if message.get("name"):
                raw += TOKENS_PER_NAME + self._raw(str(message["name"]))
            for call in message.get("tool_calls") or []:
                fn = call.get("function") if isinstance(call, Mapping) else None
                if isinstance(fn, Mapping):
                    arguments = fn.get("arguments")
                    if not isinstance(arguments, str):
                        arguments = json.dumps(arguments or {}, ensure_ascii=False)
                    raw += self._raw(str(fn.get("name") or "")) + self._raw(arguments) + TOKENS_PER_MESSAGE
            if message.get("tool_call_id"):
                raw += self._raw(str(message["tool_call_id"]))
        raw += REPLY_PRIMING
        if tools:
            raw += self._tools_raw(tools)
        scaled = raw if self.margin == 1.0 else math.ceil(raw * self.margin)
        return scaled + images

    def count_tools(self, tools: Sequence[Mapping[str, Any]]) -> int:
        """Prompt tokens that OpenAI bills for these tool definitions."""
        raw = self._tools_raw(tools)
        return raw if self.margin == 1.0 else math.ceil(raw * self.margin)

    def _tools_raw(self, tools: Sequence[Mapping[str, Any]]) -> int:
        framing = _FRAMING_O200K if self.encoding_name == "o200k_base" else _FRAMING_CL100K
        total = 0
        for tool in tools:
            fn = tool.get("function", tool) if isinstance(tool, Mapping) else None
            if not isinstance(fn, Mapping):
                continue
            description = str(fn.get("description") or "").rstrip(".")
            total += framing.func_init + self._raw(f"{fn.get('name', '')}:{description}")
            params = fn.get("parameters")
            properties = params.get("properties") if isinstance(params, Mapping) else None
            if isinstance(properties, Mapping) and properties:
                total += framing.prop_init
                for key, spec in properties.items():
                    spec = spec if isinstance(spec, Mapping) else {}
                    total += framing.prop_key
                    kind = spec.get("type", "")
                    desc = str(spec.get("description") or "").rstrip(".")
                    enum = spec.get("enum")
                    if isinstance(enum, Sequence) and not isinstance(enum, str):
                        total += framing.enum_init
                        for item in enum:
                            total += framing.enum_item + self._raw(str(item))
                    total += self._raw(f"{key}:{kind}:{desc}")
            total += framing.func_end
        return total


class B3nTokenizer:
    """A picklable ``tokenizer(text) -> list`` for ``model``: LlamaIndex's tokenizer shape.

    Use it for ``Settings.tokenizer``, ``TokenCountingHandler(tokenizer=...)`` or
    ``ChatMemoryBuffer.from_defaults(tokenizer_fn=...)``; the length of the list is the token
    count of :func:`token_counter` (tiktoken's ids for GPT models when the encoding file is on
    this machine, placeholders otherwise). Never does I/O, never raises.

    Example:
        >>> from b3n import B3nTokenizer
        >>> tokenize = B3nTokenizer("claude-3-5-sonnet-latest")
        >>> len(tokenize("Hello, world!")) == tokenize.count("Hello, world!") > 0
        True
    """

    def __init__(self, model: str = "gpt-4o-mini") -> None:
        self.model = model

    def __call__(self, text: str) -> list[int]:
        return token_counter(self.model).tokenize(text)

    def count(self, text: str) -> int:
        """Tokens in ``text``."""
        return token_counter(self.model).count_text(text)

    def __repr__(self) -> str:
        return f"B3nTokenizer(model={self.model!r})"


_COUNTERS: dict[str, TokenCounter] = {}


def token_counter(model: str) -> TokenCounter:
    """The :class:`TokenCounter` for ``model`` (cached per name; never raises, never downloads).

    Example:
        >>> token_counter("gpt-4o").encoding_name
        'o200k_base'
    """
    forced = os.environ.get(ENV_TOKENIZER, "").strip().lower() == "estimate"
    key = f"{model}\0{forced}"
    counter = _COUNTERS.get(key)
    if counter is not None:
        return counter
    name = encoding_for_model(model)
    encoding = None if forced else load_encoding(name)
    margin = FAMILY_MARGIN.get(_family(model), 1.0)
    method = f"tiktoken:{name}" if encoding is not None else "estimate"
    counter = TokenCounter(model=model, encoding_name=name, method=method, margin=margin, _encoding=encoding)
    _COUNTERS[key] = counter
    return counter


def count_text_tokens(model: str, text: str) -> int:
    """Tokens of ``text`` for ``model``.

    Example:
        >>> count_text_tokens("gpt-4o-mini", "") == 0
        True
    """
    return token_counter(model).count_text(text)


def count_message_tokens(
    model: str, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None = None
) -> int:
    """Prompt tokens of OpenAI-format ``messages`` (and ``tools``) for ``model``."""
    return token_counter(model).count_messages(messages, tools)
