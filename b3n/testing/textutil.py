"""Small text helpers shared by the emulator modules: tokens, sentences, stable hashes and ids."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

# CJK / kana / hangul characters count as one token each; other word runs count as one token,
# and every punctuation character is a token of its own.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
WORD_RE = re.compile(rf"[{_CJK}]+|[^\W_]+(?:'[^\W_]+)?")
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "please",
        "tell",
        "give",
        "me",
        "use",
        "using",
        "used",
        "also",
        "answer",
        "question",
        "query",
        "context",
        "information",
        "given",
        "following",
        "based",
        "below",
        "above",
        "provided",
        "knowledge",
        "prior",
        "let",
        "us",
        "can't",
        "don't",
        "isn't",
        "what's",
        "it's",
        "i'm",
    ]
)


def tokens(text: str) -> list[str]:
    """Split ``text`` into cheap pseudo tokens (words, CJK characters, punctuation)."""
    return TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """Number of pseudo tokens in ``text`` (0 for empty text)."""
    return len(TOKEN_RE.findall(text))


def truncate_tokens(text: str, limit: int) -> str:
    """Cut ``text`` after its first ``limit`` pseudo tokens, keeping the original spacing."""
    if limit <= 0:
        return ""
    for i, match in enumerate(TOKEN_RE.finditer(text)):
        if i + 1 == limit:
            return text[: match.end()]
    return text


def words(text: str) -> list[str]:
    """Word tokens of ``text`` in their original case (punctuation dropped)."""
    return WORD_RE.findall(text)


def stem(word: str) -> str:
    """A very small stemmer so that 'cats' matches 'cat' and 'growing' matches 'grow'."""
    w = word.lower()
    for suffix in ("ingly", "edly", "ing", "ies", "ed", "es", "ly", "s"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            base = w[: -len(suffix)]
            if suffix == "ies":
                base += "y"
            return base
    return w


def content_words(text: str) -> set[str]:
    """Stemmed, lower-cased words of ``text`` without stop words (for overlap scoring)."""
    out: set[str] = set()
    for w in words(text):
        lw = w.lower()
        if lw in STOPWORDS or (len(lw) < 3 and lw.isascii()):
            continue
        out.add(stem(lw))
    return out


def sentences(text: str) -> list[str]:
    """Split ``text`` into sentences / lines, dropping empty pieces."""
    return [s.strip() for s in _SENTENCE_SPLIT_RE.split(text) if s and s.strip()]


def digest(*parts: Any) -> bytes:
    """Stable SHA-256 digest of arbitrary JSON-able parts."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            h.update(part)
        elif isinstance(part, str):
            h.update(part.encode("utf-8", "surrogatepass"))
        else:
            h.update(json.dumps(part, sort_keys=True, ensure_ascii=False, default=str).encode())
        h.update(b"\x00")
    return h.digest()


def stable_alnum(n: int, *parts: Any) -> str:
    """``n`` deterministic alphanumeric characters derived from ``parts``."""
    out: list[str] = []
    counter = 0
    while len(out) < n:
        for byte in digest(counter, *parts):
            if byte < 248:  # 248 = 4 * 62: keeps the distribution uniform
                out.append(_ALNUM[byte % 62])
                if len(out) == n:
                    break
        counter += 1
    return "".join(out)


def stable_hex(n: int, *parts: Any) -> str:
    """``n`` deterministic hex characters derived from ``parts``."""
    out = ""
    counter = 0
    while len(out) < n:
        out += digest(counter, *parts).hex()
        counter += 1
    return out[:n]


def stable_int(*parts: Any) -> int:
    """A deterministic 64-bit integer derived from ``parts``."""
    return int.from_bytes(digest(*parts)[:8], "little")


def join_words(items: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    seq = list(items)
    if not seq:
        return ""
    if len(seq) == 1:
        return seq[0]
    return ", ".join(seq[:-1]) + " and " + seq[-1]
