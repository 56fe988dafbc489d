"""Tool-call decisions and argument synthesis for the scripted chat model."""

from __future__ import annotations

import json
import re
from typing import Any

from .chat_request import Message, Tool
from .prompt_facts import PromptFacts, find_quoted
from .schema import InstanceGenerator
from .textutil import content_words, stable_alnum, stable_hex, stem, words

# Name words too generic to show that the user wants a tool.
_GENERIC_NAME_WORDS = frozenset(
    [
        "get",
        "set",
        "tool",
        "tools",
        "function",
        "func",
        "run",
        "call",
        "calculate",
        "compute",
        "fetch",
        "find",
        "make",
        "create",
        "update",
        "delete",
        "list",
        "data",
        "info",
        "value",
        "values",
        "result",
        "results",
        "input",
        "output",
        "the",
        "for",
        "with",
        "from",
        "api",
        "helper",
        "handle",
        "process",
        "do",
        "use",
    ]
)
_GENERIC_DESC_WORDS = frozenset(
    [
        "tool",
        "function",
        "returns",
        "return",
        "take",
        "takes",
        "given",
        "value",
        "values",
        "result",
        "input",
        "output",
        "call",
        "calculate",
        "compute",
        "apply",
        "get",
        "gets",
        "data",
        "information",
        "useful",
        "specified",
        "provide",
        "provided",
        "two",
        "number",
        "numbers",
        "string",
        "strings",
    ]
)


def last_user_message(messages: list[Message]) -> Message | None:
    """The most recent user message, if any."""
    for msg in reversed(messages):
        if msg.role == "user":
            return msg
    return None


def last_user_text(messages: list[Message]) -> str:
    """Text of the most recent user message ('' if there is none)."""
    msg = last_user_message(messages)
    return msg.text if msg is not None else ""


def _word_match(a: str, b: str) -> bool:
    if a == b:
        return True
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 6


def relevance(tool: Tool, text: str) -> int:
    """How strongly ``text`` asks for ``tool`` (0 = not at all)."""
    lowered = text.lower()
    name = tool.name.lower()
    score = 0
    spaced = name.replace("_", " ").replace("-", " ")
    if any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", lowered) for n in {name, spaced}):
        score += 10
    text_stems = {stem(w) for w in words(lowered)}
    for part in re.split(r"[_\-\s]+|(?<=[a-z])(?=[A-Z])", tool.name):
        p = part.lower()
        if len(p) >= 4 and p not in _GENERIC_NAME_WORDS:
            ps = stem(p)
            if any(_word_match(ps, t) for t in text_stems):
                score += 3
    desc = content_words(tool.description) - {stem(w) for w in _GENERIC_DESC_WORDS}
    overlap = desc & content_words(text)
    if len(overlap) >= 2:
        score += len(overlap)
    return score


# -- literal call syntax: name(3), name("x", b=2), name() -------------------------------------------
def _split_args(inner: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    depth = 0
    for ch in inner:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(buf).strip())
            buf = []
            continue
        buf.append(ch)
    if "".join(buf).strip():
        parts.append("".join(buf).strip())
    return parts


def _literal(token: str) -> Any:
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    low = token.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return json.loads(token)
    except ValueError:
        return token


def parse_literal_call(name: str, text: str) -> tuple[list[Any], dict[str, Any], str] | None:
    """``name(args)`` in ``text`` → (positional values, keyword values, text without the call)."""
    m = re.search(rf"(?<![\w]){re.escape(name)}\s*\(([^()]*)\)", text)
    if m is None:
        return None
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for piece in _split_args(m.group(1)):
        kw = re.match(r"^([A-Za-z_]\w*)\s*=\s*(.+)$", piece, flags=re.S)
        if kw and not piece.startswith(("'", '"')):
            keywords[kw.group(1)] = _literal(kw.group(2))
        else:
            positional.append(_literal(piece))
    return positional, keywords, text[: m.start()] + text[m.end() :]


def _coerce(value: Any, schema: dict[str, Any], gen: InstanceGenerator, key: str) -> Any:
    schema = gen.resolve(schema)
    variant: dict[str, Any] = schema
    for k in ("anyOf", "oneOf"):
        if isinstance(schema.get(k), list):
            options = [gen.resolve(v) for v in schema[k]]
            non_null = [o for o in options if o.get("type") != "null"]
            if value is None and len(non_null) < len(options):
                return None
            variant = non_null[0] if non_null else {}
    stype = variant.get("type")
    if isinstance(stype, list):
        stype = next((t for t in stype if t != "null"), None)
    try:
        if stype == "integer":
            return int(float(value))
        if stype == "number":
            num = float(value)
            return int(num) if num.is_integer() else num
        if stype == "string":
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if stype == "boolean":
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if stype == "array":
            return value if isinstance(value, list) else [value]
        if stype == "object":
            return value if isinstance(value, dict) else gen.generate(variant, key)
    except (TypeError, ValueError):
        return gen.generate(variant, key)
    return value


def synthesize_arguments(tool: Tool, text: str, *, tool_results: str = "", reply: str = "") -> dict[str, Any]:
    """Arguments for calling ``tool``, valid for its parameter schema, taken from ``text`` where possible.

    >>> t = Tool("magic_function", "", {"type": "object", "properties": {"input": {"type": "integer"}},
    ...          "required": ["input"]})
    >>> synthesize_arguments(t, "What is the value of magic_function(3)? Use the tool.")
    {'input': 3}
    """
    schema = tool.parameters
    literal = parse_literal_call(tool.name, text)
    if literal is None:
        facts = PromptFacts.from_text(text, tool_results=tool_results)
        gen = InstanceGenerator(facts, schema, reply=reply)
        return gen.object_value(schema)
    positional, keywords, rest = literal
    facts = PromptFacts.from_text(rest, tool_results=tool_results)
    gen = InstanceGenerator(facts, schema, reply=reply)
    resolved = gen.resolve(schema)
    props: dict[str, Any] = resolved.get("properties") or {}
    required = [p for p in (resolved.get("required") or []) if p in props]
    order = required + [p for p in props if p not in required]
    out: dict[str, Any] = {}
    for key, value in keywords.items():
        if key in props:
            out[key] = _coerce(value, props[key], gen, key)
    free = [p for p in order if p not in out]
    for value, key in zip(positional, free, strict=False):
        out[key] = _coerce(value, props[key], gen, key)
    for key in required:
        if key not in out:
            out[key] = gen.generate(props[key], key)
    return {k: out[k] for k in props if k in out}


def call_id(style: str, seed: bytes, position: int) -> str:
    """A deterministic tool-call id in the style of the upstream family."""
    if style == "claude":
        return "toolu_01" + stable_alnum(22, "toolcall", seed, position)
    if style == "gemini":
        return "call_" + stable_hex(24, "toolcall", seed, position)
    return "call_" + stable_alnum(24, "toolcall", seed, position)


def quoted_keys(text: str) -> list[str]:
    """Identifier-like quoted words ('setup', "punchline") that name JSON keys."""
    quoted, _ = find_quoted(text)
    seen: list[str] = []
    for q in quoted:
        if re.fullmatch(r"[A-Za-z_][\w-]{0,63}", q) and q not in seen:
            seen.append(q)
    return seen
