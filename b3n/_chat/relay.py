"""What real relays (one-api, new-api) do to Claude and Gemini, and how requests and replies are adapted.

Pure functions (no I/O) used by the chat services, so both frameworks get the same behaviour:

- :func:`normalize_finish_reason` and :func:`normalize_model`: ``"tool_use"`` → ``"tool_calls"``,
  ``"max_tokens"`` → ``"length"``, ``""`` → nothing; a model reported as ``""``, missing or a bare
  family name (``"gemini"``) is the requested one;
- :func:`strips_trailing_whitespace`: only Gemini appends ``" \\n"`` to its replies, so only Gemini
  replies lose trailing whitespace (a GPT code block keeps its final newline);
- :func:`claude_tool_turn_content`: an assistant tool-call turn to Claude always carries text
  (one-api drops the tool calls of a ``content: null`` turn, new-api turns ``null``/``""`` into an
  empty text block that Anthropic rejects);
- :func:`text_tool_history`: Gemini tool calls and results re-sent as plain text turns, for relays
  that send ``role: "tool"`` to Gemini untranslated;
- :func:`estimate_usage`: a local token count when a stream carried no usage (``estimated=True``);
- :func:`forced_tool` / :func:`corrective_payload` / :func:`synthesize_call`: the structured-output
  fallback when the relay did not pass ``tool_choice`` on (see :mod:`b3n._chat_service`).

Example:
    >>> normalize_finish_reason("tool_use"), normalize_finish_reason(""), normalize_model("gemini", "gemini-1.5-pro")
    ('tool_calls', None, 'gemini-1.5-pro')
    >>> call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}
    >>> for m in text_tool_history([{"role": "assistant", "content": None, "tool_calls": [call]},
    ...                             {"role": "tool", "tool_call_id": "c1", "content": "2"}]):
    ...     print(m)
    {'role': 'assistant', 'content': '[called add with arguments {"a": 1}]'}
    {'role': 'user', 'content': '[result of add]: 2'}
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from b3n._catalog import get_model_info
from b3n._chat.types import ChatCompletion, ToolCall, Usage, new_call_id

_FINISH = {
    "tool_use": "tool_calls",
    "function_call": "tool_calls",
    "max_tokens": "length",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
}
_BARE_FAMILY_NAMES = frozenset({"gemini", "claude", "gpt", "openai", "anthropic", "google"})
#: text put on a Claude assistant tool-call turn that has none (new-api's own placeholder).
CLAUDE_TOOL_TURN_TEXT = "..."


def normalize_finish_reason(value: Any) -> str | None:
    """One of ``stop`` / ``length`` / ``tool_calls`` / ``content_filter`` (unknown values pass through)."""
    if value is None or value == "" or value == "null":
        return None
    text = str(value)
    return _FINISH.get(text, text)


def normalize_model(value: Any, requested: str) -> str:
    """The reported model, or ``requested`` when the relay said ``""``, nothing or a bare family name."""
    if not isinstance(value, str) or not value.strip() or value.strip().lower() in _BARE_FAMILY_NAMES:
        return requested
    return value


def family(model: str) -> str:
    """``claude``, ``gemini`` or ``openai`` (everything else the relays pass through)."""
    vendor = get_model_info(model).vendor
    return {"anthropic": "claude", "google": "gemini"}.get(vendor, "openai")


def strips_trailing_whitespace(model: str) -> bool:
    """Whether replies of ``model`` lose trailing whitespace (Gemini on B3n appends ``" \\n"``)."""
    return family(model) == "gemini"


def claude_tool_turn_content(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages where every assistant tool-call turn has non-empty text content."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        item = dict(msg)
        if item.get("role") == "assistant" and item.get("tool_calls") and not _has_text(item.get("content")):
            item["content"] = CLAUDE_TOOL_TURN_TEXT
        out.append(item)
    return out


def _has_text(content: Any) -> bool:
    if isinstance(content, str):
        return bool(content.strip())
    if isinstance(content, list):
        return any(isinstance(p, Mapping) and str(p.get("text") or "").strip() for p in content)
    return False


def has_tool_history(messages: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the conversation holds tool calls or tool results."""
    return any(m.get("role") == "tool" or (m.get("role") == "assistant" and m.get("tool_calls")) for m in messages)


def text_tool_history(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Tool calls and results as plain assistant / user text turns (consecutive results in one turn).

    The format is one bracketed line per call (``[called NAME with arguments {...}]``) and per result
    (``[result of NAME]: ...``), which any relay forwards and any model reads.
    """
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for msg in messages:
        role = msg.get("role")
        if role == "assistant" and msg.get("tool_calls"):
            lines = [_text(msg.get("content"))] if _has_text(msg.get("content")) else []
            for call in msg["tool_calls"]:
                fn = call.get("function") or {}
                names[str(call.get("id"))] = str(fn.get("name"))
                lines.append(f"[called {fn.get('name')} with arguments {fn.get('arguments') or '{}'}]")
            out.append({"role": "assistant", "content": "\n".join(lines)})
        elif role == "tool":
            name = names.get(str(msg.get("tool_call_id")), "the tool")
            line = f"[result of {name}]: {_text(msg.get('content'))}"
            if out and out[-1].get("role") == "user" and str(out[-1].get("content", "")).startswith("[result of "):
                out[-1]["content"] += "\n" + line
            else:
                out.append({"role": "user", "content": line})
        else:
            out.append(dict(msg))
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, Mapping))
    return "" if content is None else str(content)


def estimate_usage(model: str, payload: Mapping[str, Any], completion: ChatCompletion) -> Usage:
    """Usage counted locally (``estimated=True``) for a stream that carried none."""
    from b3n._tokens import count_message_tokens, count_text_tokens

    prompt = count_message_tokens(model, payload.get("messages") or [], payload.get("tools"))
    text = completion.content + (completion.reasoning or "")
    text += "".join(c.name + c.arguments for c in completion.tool_calls)
    completion_tokens = count_text_tokens(model, text) if text else 0
    return Usage(prompt, completion_tokens, prompt + completion_tokens, estimated=True)


def is_tool_role_rejection(message: str) -> bool:
    """Whether a 400 says the upstream got a tool turn it could not read (Gemini behind an old relay)."""
    low = message.lower()
    return "valid role" in low or "contents.parts must not be empty" in low or "function response" in low


# ----------------------------------------------------------------------------- structured-output fallback

STRUCTURED_INSTRUCTION = (
    "Reply with only a JSON object (no prose, no code fence) that is the value of `{name}` and matches this "
    "JSON schema: {schema}"
)


def forced_tool(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``tools`` entry a request forces (a named ``tool_choice``, or ``"required"`` with one tool)."""
    tools = [t for t in payload.get("tools") or [] if isinstance(t, Mapping)]
    choice = payload.get("tool_choice")
    if isinstance(choice, Mapping):
        name = (choice.get("function") or {}).get("name")
        return next((dict(t) for t in tools if t.get("function", {}).get("name") == name), None)
    if choice == "required" and tools:
        if len(tools) == 1:
            return dict(tools[0])
        called = _called_since_last_user(payload.get("messages") or [])
        # LangChain's create_agent puts its response-format tool (named after the schema class) last: the one
        # still to call. Between several action tools there is no telling which one was meant: no fallback.
        last = tools[-1]
        name = str(last.get("function", {}).get("name") or "")
        return dict(last) if name[:1].isupper() and name not in called else None
    return None


def _called_since_last_user(messages: Sequence[Mapping[str, Any]]) -> set[str]:
    called: set[str] = set()
    for msg in messages:
        if msg.get("role") == "user":
            called = set()
        for call in msg.get("tool_calls") or []:
            called.add(str((call.get("function") or {}).get("name")))
    return called


def corrective_payload(payload: Mapping[str, Any], tool: Mapping[str, Any], reply: str,
                       json_mode: bool) -> dict[str, Any]:
    """One follow-up request asking for the forced tool's arguments as a JSON reply (no tools)."""
    fn = tool.get("function") or {}
    out = {k: v for k, v in payload.items() if k not in ("tools", "tool_choice", "parallel_tool_calls", "stream",
                                                        "stream_options")}
    instruction = STRUCTURED_INSTRUCTION.format(
        name=fn.get("name"), schema=json.dumps(fn.get("parameters") or {}, ensure_ascii=False)
    )
    messages = list(payload.get("messages") or [])
    if reply.strip():
        messages.append({"role": "assistant", "content": reply})
    messages.append({"role": "user", "content": instruction})
    out["messages"] = messages
    if json_mode:
        out["response_format"] = {"type": "json_object"}
    return out


def json_arguments(text: str) -> str | None:
    """The JSON object in ``text`` as compact JSON, or None."""
    from b3n._chat.structured import extract_json
    from b3n._errors import B3nStructuredOutputError

    try:
        value = extract_json(text)
    except B3nStructuredOutputError:
        return None
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else None


def synthesize_call(completion: ChatCompletion, tool: Mapping[str, Any], arguments: str) -> ChatCompletion:
    """``completion`` carrying a call of ``tool`` with ``arguments`` (text kept aside as reasoning)."""

    name = str((tool.get("function") or {}).get("name"))
    completion.tool_calls = [ToolCall(id=new_call_id(), name=name, arguments=arguments)]
    completion.content = ""
    completion.finish_reason = "tool_calls"
    return completion


# ----------------------------------------------------------------------------- what was learned per relay


class Adaptation(Enum):
    """Something a relay does differently for a model family, that the chat services adapt to.

    Each is learned during the process (:data:`MEMORY`) or read from ``b3n probe``'s findings
    (``b3n._probe_cache``): the value is the family and the probe behaviour whose ``False`` calls for it.

    Example:
        >>> Adaptation.tool_choice_ignored("claude").behaviour
        'tool_choice'
    """

    GEMINI_TEXT_TOOL_HISTORY = ("gemini", "tool_result_turns")
    GEMINI_STREAM_TOOL_CALLS_DROPPED = ("gemini", "stream_tool_calls")
    GEMINI_JSON_MODE_IGNORED = ("gemini", "response_format")
    CLAUDE_TOOL_CHOICE_IGNORED = ("claude", "tool_choice")
    GEMINI_TOOL_CHOICE_IGNORED = ("gemini", "tool_choice")

    @property
    def family(self) -> str:
        family: str = self.value[0]
        return family

    @property
    def behaviour(self) -> str:
        behaviour: str = self.value[1]
        return behaviour

    @classmethod
    def tool_choice_ignored(cls, family: str) -> Adaptation | None:
        """The adaptation for a relay that ignores a named ``tool_choice`` for ``family`` (None: not known)."""
        return {"claude": cls.CLAUDE_TOOL_CHOICE_IGNORED, "gemini": cls.GEMINI_TOOL_CHOICE_IGNORED}.get(family)


class RelayMemory:
    """Adaptations learned for (base URL, model) during this process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._learned: dict[tuple[str, str], set[Adaptation]] = {}

    def knows(self, base_url: str, model: str, what: Adaptation) -> bool:
        with self._lock:
            return what in self._learned.get((base_url, model), ())

    def learn(self, base_url: str, model: str, what: Adaptation) -> None:
        with self._lock:
            self._learned.setdefault((base_url, model), set()).add(what)

    def forget(self) -> None:
        with self._lock:
            self._learned.clear()


#: learned this process (a Gemini upstream refusing tool turns, a stream dropping Gemini function calls).
MEMORY = RelayMemory()
