"""Structured output that may also call tools: ``with_structured_output(schema, tools=[...], include_raw=True)``.

The model either answers in the schema or calls one of the tools. :func:`answer_or_none` turns the reply into the
parsed answer, or ``None`` when the model called a tool instead (the calls are on the ``raw`` message), as
langchain-openai does; a reply that is neither raises, which ``include_raw`` reports as ``parsing_error``.

- ``json_schema`` / ``json_mode``: the answer is the message text;
- ``function_calling``: the schema is one more tool; the answer is a call of it. A relay that ignored
  ``tool_choice`` and answered in text (new-api's Claude route) still gives an answer when the text holds the JSON.

Example:
    >>> from langchain_core.messages import AIMessage
    >>> parse = answer_or_none(None, tool_name="Joke")
    >>> parse(AIMessage(content="", tool_calls=[{"name": "Joke", "args": {"setup": "a"}, "id": "1"}]))
    {'setup': 'a'}
    >>> parse(AIMessage(content="", tool_calls=[{"name": "get_weather", "args": {}, "id": "2"}])) is None
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import BaseMessage

from b3n._chat.structured import extract_json
from b3n._errors import B3nError
from langchain_b3n.errors import to_langchain_error


def answer_or_none(schema: type | None, *, tool_name: str | None = None) -> Callable[[BaseMessage], Any]:
    """A parser: the answer (validated into ``schema`` when it is a pydantic class), or None after a tool call.

    ``tool_name``: the answer comes as a call of this tool (``function_calling``); otherwise as the text.
    """

    def parse(message: BaseMessage) -> Any:
        calls = list(getattr(message, "tool_calls", None) or [])
        answer = next((c for c in calls if c["name"] == tool_name), None) if tool_name else None
        if answer is not None:
            data: Any = answer["args"]
        elif calls:
            return None  # the model called a tool: the calls are on the raw message
        else:
            try:
                data = extract_json(message.text, model=None)
            except B3nError as exc:
                raise to_langchain_error(exc) from None
        return schema.model_validate(data) if schema is not None and hasattr(schema, "model_validate") else data

    return parse


__all__ = ["answer_or_none"]
