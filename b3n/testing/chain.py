"""Sequential prompts: 'What is 3 * 4? Then add 5 to the result.' → one tool per step, in order.

:func:`chain_steps` splits a user prompt at sequence words (then, after that, next, finally) and maps
every step to the tool it asks for (arithmetic symbols count as the operation's name, so ``3 * 4``
asks for a ``multiply`` tool). :func:`step_text_with_result` rewrites a later step so that the
previous step's result becomes one of its arguments.

>>> from b3n.testing.chat_request import Tool
>>> ints = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
...         "required": ["a", "b"]}
>>> tools = [Tool("add", "Add two integers.", ints), Tool("multiply", "Multiply two integers.", ints)]
>>> [(s.tool.name, s.text) for s in chain_steps("What is 3 * 4? Then add 5 to the result.", tools) or []]
[('multiply', 'What is 3 * 4'), ('add', 'add 5 to the result.')]
>>> step_text_with_result("add 5 to the result.", "12", tools[0])
'12 and add 5 .'
>>> step_text_with_result("multiply the result by 3", "12", tools[1])
'multiply 12 by 3'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .chat_request import Tool
from .prompt_facts import NUMBER_RE
from .tools import relevance

# A step boundary: "…, then …", "… and then …", "…. After that, …", "…; next, …", "… Finally …".
_SPLIT_RE = re.compile(
    r"(?:[,;:.!?]\s*|\s+)(?:and\s+)?(?:then|after\s+that|afterwards|and\s+next)\b[,:]?\s*"
    r"|(?:[,;.!?]\s+|^)(?:next|finally|lastly)\b[,:]?\s*",
    re.IGNORECASE,
)
# Arithmetic written with symbols or synonyms, and the operation words it stands for.
_OPERATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d\s*(?:\*|×|\bx\b)\s*-?\d|\btimes\b|\bproduct\b|\bdouble\b|\btriple\b", re.I), "multiply product"),
    (re.compile(r"\d\s*\+\s*-?\d|\bplus\b|\bsum\b|\btotal\b|\bincrease\b", re.I), "add sum"),
    (re.compile(r"\d\s*-\s*-?\d|\bminus\b|\bdifference\b|\bdecrease\b|\bsubtract", re.I), "subtract difference"),
    (re.compile(r"\d\s*(?:/|÷)\s*-?\d|\bdivided\b|\bquotient\b|\bhalve\b", re.I), "divide quotient"),
    (re.compile(r"\d\s*(?:\^|\*\*)\s*-?\d|\bpower\b|\bsquared?\b|\bcubed?\b", re.I), "power exponent"),
)
# The previous step's result, referred to explicitly ...
_REFERENCE_RE = re.compile(
    r"\b(?:the|that|this|its|previous|prior|last)\s+(?:(?:previous|prior|last|first|resulting)\s+)?"
    r"(?:result|answer|number|value|output|outcome|sum|product|total|difference|quotient)\b"
    r"|\b(?:that|it|this)\b(?!\s+(?:is|was|the|a|an)\b)",
    re.IGNORECASE,
)


@dataclass
class Step:
    """One step of a sequential prompt and the tool that performs it."""

    text: str
    tool: Tool


def split_steps(text: str) -> list[str]:
    """The pieces of ``text`` between sequence words (one piece when there are none)."""
    pieces = [p.strip() for p in _SPLIT_RE.split(text)]
    return [p for p in pieces if p and re.search(r"\w", p)]


def operation_words(text: str) -> str:
    """``text`` plus the names of the arithmetic operations it writes with symbols or synonyms."""
    extra = [words for pattern, words in _OPERATIONS if pattern.search(text)]
    return " ".join([text, *extra])


def step_tool(text: str, tools: list[Tool]) -> Tool | None:
    """The tool a single step asks for (None: the step needs no tool)."""
    scored = [(relevance(t, operation_words(text)), -i, t) for i, t in enumerate(tools)]
    best = max(scored, key=lambda item: (item[0], item[1]), default=None)
    return best[2] if best is not None and best[0] > 0 else None


def chain_steps(text: str, tools: list[Tool]) -> list[Step] | None:
    """The tool steps of a sequential prompt, in order; None unless at least two steps need a tool."""
    pieces = split_steps(text)
    if len(pieces) < 2:
        return None
    steps: list[Step] = []
    for piece in pieces:
        tool = step_tool(piece, tools)
        if tool is not None:
            steps.append(Step(piece, tool))
    return steps if len(steps) >= 2 else None


def result_value(content: str) -> str | None:
    """What a later step uses from a tool result: its first number, else its (short) text."""
    m = NUMBER_RE.search(content)
    if m is not None:
        return m.group()
    text = " ".join(content.split())
    return text if 0 < len(text) <= 80 else None


def _numeric_params(tool: Tool) -> int:
    props: dict[str, Any] = tool.parameters.get("properties") or {}
    required = tool.parameters.get("required") or list(props)
    return sum(1 for p in required if isinstance(props.get(p), dict) and props[p].get("type") in ("integer", "number"))


def step_text_with_result(text: str, result: str, tool: Tool) -> str:
    """``text`` of a later step with the previous ``result`` put where the step refers to it.

    'add 5 to the result' → '12 and add 5' (the result is the first operand of 'to' / 'from'
    phrases); 'multiply the result by 3' → 'multiply 12 by 3'; a step that does not mention the
    result but lacks numbers ('Then add 5.') gets the result in front.
    """
    ref = _REFERENCE_RE.search(text)
    if ref is not None:
        before = text[: ref.start()]
        lead = re.search(r"\b(?:to|from|with)\s+$", before, flags=re.IGNORECASE)
        if lead is not None and NUMBER_RE.search(before[: lead.start()]):
            rest = (before[: lead.start()].rstrip() + " " + text[ref.end() :].lstrip()).strip()
            return f"{result} and {rest}"
        return text[: ref.start()] + result + text[ref.end() :]
    if len(NUMBER_RE.findall(text)) < max(1, _numeric_params(tool)):
        return f"{result} and {text}"
    return text


__all__ = [
    "Step",
    "chain_steps",
    "operation_words",
    "result_value",
    "split_steps",
    "step_text_with_result",
    "step_tool",
]
