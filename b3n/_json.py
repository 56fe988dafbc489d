"""JSON read from the wire or a file, bounded: nesting depth, and numbers read without overflow.

Every parser of what a relay sends (chat bodies, stream chunks, SSE lines, embeddings, models, account,
pricing, error bodies, tool-call arguments) and of the probe cache file decodes with :func:`loads`, so
~1,000 nested brackets become a plain ``ValueError`` (which each caller already turns into its typed
``B3nError``) instead of a ``RecursionError`` deep in the standard library. Numbers a relay reports (token
counts, quota, prices) are read with :func:`count` / :func:`finite`, which never raise: ``1e400``,
``NaN``, ``"²"`` or ``10**5000`` are simply not a usable number.

Example:
    >>> loads('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> try:
    ...     loads("[" * 1000 + "]" * 1000)
    ... except ValueError as exc:
    ...     print(exc)
    JSON nested deeper than 128 levels
    >>> count(1e400), count("²"), count("12"), count(-3), finite(float("nan")), finite("0.5")
    (None, None, 12, None, None, 0.5)
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

#: the deepest JSON accepted from a relay or a cache file (a chat body is ~8 levels deep; tool-call arguments
#: rarely pass 10). Deeper input is refused before the standard library's recursive decoder sees it.
MAX_DEPTH = 128
#: the largest count accepted (token counts, quota units, request counts): 2**53, exact as a float too.
MAX_COUNT = 2**53

#: every byte but the quote and the brackets (deleted before the depth count; UTF-8 never has them inside a character)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_QUOTED = re.compile(rb'"[^"]*"')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def depth(text: str | bytes) -> int:
    """How deeply the brackets of JSON ``text`` nest (strings skipped); linear, no recursion.

    Runs at C speed on large bodies: escaped backslashes and quotes go first (so a string's end is its next
    quote), then every byte but quotes and brackets, then the strings.

    Example:
        >>> depth('{"a": [[1]], "b": "[[[["}'), depth("1"), depth(b'[{"a": "}]"}, [[1]]]')
        (3, 0, 3)
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if data.count(b"[") + data.count(b"{") <= 1:
        return 1 if b"[" in data or b"{" in data else 0
    return _depth(data)


def _depth(data: bytes) -> int:
    return _deepest(_structure(data))


def _structure(data: bytes) -> bytes:
    """Only the quotes and brackets of ``data``, escaped backslashes and quotes dropped first."""
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    return data.translate(None, _NOT_STRUCTURE)


def _deepest(structure: bytes) -> int:
    brackets = _QUOTED.sub(b"", structure).replace(b'"', b"")  # (the last replace: an unclosed string)
    return max(accumulate(_STEP[c] for c in brackets), default=0)


def loads(data: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that refuses input nested deeper than ``max_depth`` with a ``ValueError``.

    Raises only ``ValueError`` (``json.JSONDecodeError`` included) for anything that is not acceptable JSON,
    also for integers longer than Python's digit limit.
    """
    raw: bytes | None = None  # the UTF-8 bytes, when data came as such
    if isinstance(data, (bytes, bytearray)):
        encoding = json.detect_encoding(data)
        try:
            text = bytes(data).decode(encoding, "surrogatepass")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not valid JSON text: {exc}") from None
        raw = bytes(data) if encoding == "utf-8" else None  # UTF-16/32 or a BOM: scan the text's UTF-8 instead
    else:
        text = data
    # fewer brackets than the limit cannot nest deeper than it (most bodies). A large body is scanned once, as
    # bytes: keeping only its quotes and brackets takes one C pass, and most answers stop at that count.
    if raw is not None:
        structure = _structure(raw)
        deep = len(structure) - structure.count(b'"') > max_depth and _deepest(structure) > max_depth
    else:
        brackets = text.count("[") + text.count("{")
        deep = brackets > max_depth and _depth(text.encode("utf-8", "surrogatepass")) > max_depth
    if deep:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # unreachable after the depth check; kept so nothing but ValueError escapes
        raise ValueError(f"JSON nested deeper than {max_depth} levels") from None


def count(value: Any) -> int | None:
    """A non-negative whole count (int, integral finite float, or ASCII digits) up to :data:`MAX_COUNT`, else None.

    Example:
        >>> count(3), count(3.9), count(True), count("007"), count(2**60), count(float("inf"))
        (3, 3, None, 7, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = int(value)  # a relay that sends 12.0 (or 12.5) tokens means 12
    elif isinstance(value, str):
        if not (value.isascii() and value.isdigit() and len(value) <= 16):
            return None
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_COUNT:
        return value
    return None


def finite(value: Any) -> float | None:
    """A finite float from a number or numeric text, else None (never raises).

    Example:
        >>> finite(2), finite("1e3"), finite("1e400"), finite("inf"), finite(None), finite(10**400)
        (2.0, 1000.0, None, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, str) and (len(value) > 64 or not value.isascii()):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


__all__ = ["MAX_COUNT", "MAX_DEPTH", "count", "depth", "finite", "loads"]
