"""The scripted model reads tool calls and results written as text turns, as a real model would.

Clients whose relay cannot carry ``role: "tool"`` to Gemini re-send the tool history as plain text
(``[called NAME with arguments {...}]`` in an assistant turn, ``[result of NAME]: ...`` in a user
turn). The model treats those exactly like structured calls and results, so an agent loop goes on.

>>> from b3n.testing.chat_request import Message
>>> turns = read_text_tool_turns([Message("user", "What is add(1, 2)?"),
...     Message("assistant", '[called add with arguments {"a": 1, "b": 2}]'), Message("user", "[result of add]: 3")])
>>> [(m.role, m.text, [c.name for c in m.tool_calls]) for m in turns]
[('user', 'What is add(1, 2)?', []), ('assistant', '', ['add']), ('tool', '3', [])]
"""

from __future__ import annotations

import re

from .chat_request import Message, ToolCall

_CALL_RE = re.compile(r"^\[called ([A-Za-z0-9_-]{1,64}) with arguments (.*)\]\s*$")
_RESULT_RE = re.compile(r"^\[result of ([^\]]{1,64})\]: ?(.*)$", re.DOTALL)


def read_text_tool_turns(messages: list[Message]) -> list[Message]:
    """``messages`` with text-written tool calls / results turned into structured ones."""
    out: list[Message] = []
    pending: dict[str, list[str]] = {}
    counter = 0
    for msg in messages:
        if msg.role == "assistant" and not msg.tool_calls and "[called " in msg.text:
            calls: list[ToolCall] = []
            prose: list[str] = []
            for line in msg.text.splitlines():
                m = _CALL_RE.match(line.strip())
                if m is None:
                    prose.append(line)
                    continue
                counter += 1
                call = ToolCall(id=f"text_call_{counter}", name=m.group(1), arguments=m.group(2))
                pending.setdefault(call.name, []).append(call.id)
                calls.append(call)
            out.append(Message("assistant", "\n".join(prose).strip(), tool_calls=calls))
            continue
        if msg.role == "user" and msg.text.startswith("[result of "):
            results = _split_results(msg.text)
            if results:
                for name, content in results:
                    ids = pending.get(name) or []
                    out.append(Message("tool", content, tool_call_id=ids.pop(0) if ids else None))
                continue
        out.append(msg)
    return out


def _split_results(text: str) -> list[tuple[str, str]]:
    parts = re.split(r"\n(?=\[result of )", text)
    found: list[tuple[str, str]] = []
    for part in parts:
        m = _RESULT_RE.match(part)
        if m is None:
            return []
        found.append((m.group(1), m.group(2).strip()))
    return found
