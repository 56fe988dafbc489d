"""Text replies of the scripted chat model: extractive RAG answers, echoes, tool-result summaries."""

from __future__ import annotations

import json
import re
from typing import Any

from .chat_request import Message
from .textutil import content_words, join_words, sentences, words

_CONTEXT_MARKER_RE = re.compile(
    r"(?:context information is below\.?|(?:more |some )?context below\.?|context information:|"
    r"here is (?:some|the) context:?|"
    r"retrieved context:|relevant (?:context|information|documents?):|<context>|"
    r"\bcontext\s*:|\bdocuments?\s*:|\bsources?\s*:|\bexcerpts?\s*:)",
    re.IGNORECASE,
)
_CONTEXT_END_RE = re.compile(
    r"(?:\n\s*-{3,}\s*\n\s*(?=given|answer|query|question|refine)|"
    r"\n\s*(?:given the|query\s*:|question\s*:|answer\s*:|refined answer\s*:|</context>|human\s*:|user\s*:|"
    r"instructions?\s*:)|"
    r"</context>|\s+Answer\s*:)",
    re.IGNORECASE,
)
_QUESTION_RE = re.compile(
    r"(?:^|\n|\s)(?:query|question|user question|original query is as follows)\s*:\s*(.+)", re.IGNORECASE
)
_METADATA_LINE_RE = re.compile(r"^[\w .-]{1,40}:\s*\S+$")
_DASHES_RE = re.compile(r"^\s*[-=_*]{3,}\s*$", re.MULTILINE)
_SAY_RE = re.compile(r"^\s*(?:please\s+)?(?:say|repeat|echo|reply with|respond with)\s*:?\s+(.+?)\s*$", re.I | re.S)
_ARITH_RE = re.compile(
    r"(?<![\w.\-/:])(-?\d+(?:\.\d+)?)\s*(\+|-|\*|/|×|÷|\sx\s|\stimes\s|\splus\s|\sminus\s)\s*"
    r"(-?\d+(?:\.\d+)?)(?![\w.\-/:])"
    r"(?:\s*=\s*(-?\d+(?:\.\d+)?))?"
)
_GREETINGS = ("hello", "hi", "hey", "hiya", "howdy", "greetings", "good morning", "good evening", "你好", "hola")
_MAX_ECHO_WORDS = 40


def extractive_answer(messages: list[Message]) -> str | None:
    """When the prompt carries retrieved context, the context sentence(s) best matching the question."""
    prompt_msgs = [m for m in messages if m.role in ("system", "developer", "user")]
    holder: Message | None = None
    marker: re.Match[str] | None = None
    for msg in reversed(prompt_msgs):
        marker = _CONTEXT_MARKER_RE.search(msg.text)
        if marker is not None:
            holder = msg
            break
    if holder is None or marker is None:
        return None
    rest = holder.text[marker.end() :]
    end = _CONTEXT_END_RE.search(rest)
    context = rest[: end.start()] if end else rest
    context = _DASHES_RE.sub("\n", context)
    candidates = [s for s in sentences(context) if not _METADATA_LINE_RE.match(s) and len(words(s)) >= 2]
    if not candidates:
        return None
    question = ""
    matches = list(_QUESTION_RE.finditer("\n".join(m.text for m in prompt_msgs)))
    if matches:
        question = matches[-1].group(1).split("\n")[0]
    if not question.strip():
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        question = last_user.text if last_user else ""
        if last_user is holder:  # the question and the context share one message
            question = question.replace(context, " ")
    q_words = content_words(question)
    scored = [(len(content_words(s) & q_words), -i, s) for i, s in enumerate(candidates)]
    scored.sort(reverse=True)
    best_score = scored[0][0]
    if best_score == 0:
        return _sentence(candidates[0])
    chosen = [item for item in scored if item[0] == best_score][:2]
    chosen.sort(key=lambda item: -item[1])
    return " ".join(_sentence(s) for _, _, s in chosen)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text[-1:] in ".!?。！？" else text + "."


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def arithmetic_answer(text: str) -> str | None:
    """'1 + 2 = 3.' for 'What is 1 + 2', 'Yes, 1 + 1 = 2.' for '1+1=2?'."""
    m = _ARITH_RE.search(text)
    if m is None:
        return None
    a, op, b, claimed = float(m.group(1)), m.group(2).strip(), float(m.group(3)), m.group(4)
    if op in ("+", "plus"):
        value, sym = a + b, "+"
    elif op in ("-", "minus"):
        value, sym = a - b, "-"
    elif op in ("*", "×", "x", "times"):
        value, sym = a * b, "*"
    else:
        if b == 0:
            return f"{_number(a)} / 0 is undefined."
        value, sym = a / b, "/"
    value = round(value, 6)
    core = f"{_number(a)} {sym} {_number(b)} = {_number(value)}"
    if claimed is not None:
        return ("Yes, " if float(claimed) == value else "No, ") + core + "."
    return core + "."


def echo_reply(model: str, text: str) -> str:
    """The default deterministic answer to a user text."""
    stripped = " ".join(text.split())
    ws = stripped.split(" ")
    shown = stripped if len(ws) <= _MAX_ECHO_WORDS else " ".join(ws[:_MAX_ECHO_WORDS]) + " …"
    lowered = stripped.lower()
    greeting = any(lowered == g or re.match(rf"{re.escape(g)}\b", lowered) for g in _GREETINGS)
    prefix = "Hello! " if greeting else ""
    return f"{prefix}I am the B3n emulator (model {model}). You said: {shown}"


def plain_reply(model: str, messages: list[Message]) -> str:
    """A non-empty deterministic reply to the conversation."""
    extract = extractive_answer(messages)
    if extract:
        return extract
    last = next((m for m in reversed(messages) if m.role == "user"), None)
    if last is None:
        last = next((m for m in reversed(messages) if m.text.strip()), messages[-1])
    text = last.text.strip()
    parts: list[str] = []
    if last.images:
        n = len(last.images)
        parts.append(f"I see {n} image{'s' if n != 1 else ''} ({'; '.join(i.describe() for i in last.images)}).")
    if text:
        said = _SAY_RE.match(text)
        arith = arithmetic_answer(text)
        if said:
            value = said.group(1).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            parts.append(value.rstrip(".!") or value)
        elif arith:
            parts.append(arith)
        elif not parts:
            parts.append(echo_reply(model, text))
        else:
            parts.append(f"You asked: {' '.join(text.split()[:_MAX_ECHO_WORDS])}")
    if not parts:
        parts.append(f"I am the B3n emulator (model {model}). I received your message.")
    return " ".join(parts)


def tool_results_reply(messages: list[Message]) -> str:
    """Text that uses every tool result of the current turn (since the latest user message)."""
    names: dict[str, str] = {}
    for msg in messages:
        for call in msg.tool_calls:
            names[call.id] = call.name
    # every result since the latest user message (calls made one per step are all reported)
    trailing: list[Message] = []
    for msg in reversed(messages):
        if msg.role == "user":
            break
        if msg.role == "tool":
            trailing.append(msg)
    trailing.reverse()
    parts: list[str] = []
    for msg in trailing:
        name = names.get(msg.tool_call_id or "", "the tool")
        content = " ".join(msg.text.split()) or "(empty)"
        if len(content) > 1000:
            content = content[:1000] + " …"
        if content.lower().startswith("error"):
            parts.append(f"The {name} tool returned an error: {content}")
        else:
            end = "" if content[-1:] in ".!?" else "."
            parts.append(f"The result of {name} is {content}{end}")
    return " ".join(parts) or "The tool returned no result."


def tool_preface(names: list[str]) -> str:
    """Claude's text beside its tool calls."""
    unique = list(dict.fromkeys(names))
    noun = "tool" if len(unique) == 1 else "tools"
    return f"I'll use the {join_words(unique)} {noun} to help with that."


def embedded_schema(messages: list[Message]) -> dict[str, Any] | None:
    """A JSON schema embedded in the prompt (LangChain/LlamaIndex output-parser format instructions)."""
    decoder = json.JSONDecoder()
    for msg in reversed(messages):
        if msg.role not in ("system", "developer", "user") or '"properties"' not in msg.text:
            continue
        variants = [msg.text]
        if "{{" in msg.text:  # prompt templates escape braces as {{ }} (LlamaIndex's PydanticOutputParser)
            variants.append(msg.text.replace("{{", "{").replace("}}", "}"))
        for text in variants:
            for attempt, m in enumerate(re.finditer(r"\{", text)):
                if attempt > 200:
                    break
                try:
                    value, _ = decoder.raw_decode(text, m.start())
                except ValueError:
                    continue
                if isinstance(value, dict) and isinstance(value.get("properties"), dict):
                    return value
    return None
