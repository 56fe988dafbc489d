"""Facts the scripted model reads from a prompt: quoted strings, numbers, places, salient words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .textutil import STOPWORDS

_QUOTE_PATTERNS = (
    re.compile(r"(?<![\w'])'([^'\n]{1,200}?)'(?![\w'])"),
    re.compile(r'(?<![\w"])"([^"\n]{1,200}?)"(?![\w"])'),
    re.compile(r"“([^”\n]{1,200}?)”"),
    re.compile(r"‘([^’\n]{1,200}?)’"),
    re.compile(r"「([^」\n]{1,200}?)」"),
    re.compile(r"『([^』\n]{1,200}?)』"),
)
NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])(?!\.\d)")
_CAP_WORD = r"[A-Z][\w'.&-]*"
_PLACE_RE = re.compile(
    rf"\b(?:in|at|near|for|to|from|of)\s+((?:the\s+)?{_CAP_WORD}(?:\s+{_CAP_WORD})*(?:,\s*{_CAP_WORD}(?:\s+{_CAP_WORD})*)?)"
)
_TOPIC_RE = re.compile(r"\b(?:about|on|regarding|concerning)\s+([\w' -]{2,60}?)(?=[.,;:!?()\n]|$| and | with | in )")
_CAP_PHRASE_RE = re.compile(rf"{_CAP_WORD}(?:\s+{_CAP_WORD})*")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?:;\n])\s*$")


@dataclass
class PromptFacts:
    """What a deterministic 'model' can pick out of the text it was given."""

    text: str
    quoted: list[str] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    extra_numbers: list[float] = field(default_factory=list)  # from earlier tool results
    used_quotes: int = 0
    used_numbers: int = 0
    used_extra: int = 0
    used_strings: set[str] = field(default_factory=set)

    @classmethod
    def from_text(cls, text: str, *, tool_results: str = "", exclude_quoted: set[str] | None = None) -> PromptFacts:
        """Extract facts from ``text`` (quoted strings that name keys can be excluded)."""
        quoted, spans = find_quoted(text)
        if exclude_quoted:
            quoted = [q for q in quoted if q not in exclude_quoted]
        numbers = [_num(m.group()) for m in NUMBER_RE.finditer(text) if not _inside(m.start(), spans)]
        extra = [_num(m.group()) for m in NUMBER_RE.finditer(tool_results)]
        return cls(text=text, quoted=quoted, numbers=numbers, extra_numbers=extra)

    def next_quoted(self) -> str | None:
        if self.used_quotes < len(self.quoted):
            self.used_quotes += 1
            return self.quoted[self.used_quotes - 1]
        return None

    def next_number(self) -> float | None:
        if self.used_numbers < len(self.numbers):
            self.used_numbers += 1
            return self.numbers[self.used_numbers - 1]
        if not self.numbers and self.used_extra < len(self.extra_numbers):
            self.used_extra += 1
            return self.extra_numbers[self.used_extra - 1]
        return None

    def place(self) -> str | None:
        """'San Francisco, CA' from 'weather in San Francisco, CA?'."""
        for m in _PLACE_RE.finditer(self.text):
            value = m.group(1).strip().rstrip(".")
            if value.lower().startswith("the "):
                value = value[4:]
            if value and value.split()[0].lower() not in STOPWORDS:
                return value
        return None

    def topic(self) -> str | None:
        """'cats' from 'a joke about cats.'."""
        m = _TOPIC_RE.search(self.text)
        if m:
            value = m.group(1).strip()
            if value and value.lower() not in STOPWORDS:
                return value
        return None

    def salient(self) -> str | None:
        """A capitalised phrase that does not start a sentence (e.g. 'Pirate'), unused so far."""
        for m in _CAP_PHRASE_RE.finditer(self.text):
            phrase = m.group()
            start = m.start()
            if _SENTENCE_START_RE.search(self.text[:start]):
                parts = phrase.split()
                if len(parts) < 2:
                    continue
                phrase = " ".join(parts[1:])
            phrase = phrase.strip(".'-")
            if not phrase or phrase.lower() in STOPWORDS or phrase in ("I", "Use", "Using"):
                continue
            if phrase in self.used_strings or _is_quoted_part(phrase, self.quoted):
                continue
            self.used_strings.add(phrase)
            return phrase
        return None

    def keyed_value(self, key: str) -> str | None:
        """``key=value`` / ``key: value`` / ``key is value`` / ``named value`` in the text."""
        spaced = re.escape(key).replace("_", "[ _]")
        m = re.search(
            rf"\b{spaced}\s*(?:=|:|\bis\b)\s*(\"[^\"]*\"|'[^']*'|[^\s,;.!?]+)",
            self.text,
            flags=re.IGNORECASE,
        )
        if m:
            return m.group(1).strip("'\"")
        return None


def find_quoted(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Quoted strings of ``text`` in order of appearance, plus their spans."""
    found: list[tuple[int, int, str]] = []
    for pattern in _QUOTE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e, _ in found):
                continue
            value = m.group(1).strip()
            if value:
                found.append((m.start(), m.end(), value))
    found.sort()
    return [v for _, _, v in found], [(s, e) for s, e, _ in found]


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


def _is_quoted_part(phrase: str, quoted: list[str]) -> bool:
    return any(phrase in q for q in quoted)


def _num(token: str) -> float:
    value = float(token)
    return float(int(value)) if value.is_integer() else value
