"""The plain tools, schema and text that the agent, tool-calling and structured-output tests of both frameworks share.

The emulator's model calls the tools for prompts like "What is 3 * 4? Then add 5 to the result." (17) and fills
``Movie`` from ``MOVIE_TEXT``: the tests assert those results, so test files import these rather than defining their own.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

#: the text the structured-output tests ask the model to turn into a :class:`Movie`.
MOVIE_TEXT = "Alien was released in 1979."


def multiply(a: int, b: int) -> int:
    """Multiply two integers and return the product."""
    return a * b


def add(a: int, b: int) -> int:
    """Add two integers and return the sum."""
    return a + b


class Movie(BaseModel):
    """A movie and the year it came out."""

    title: str
    year: int


def function_tool(name: str, description: str, properties: dict[str, Any], *required: str) -> dict[str, Any]:
    """An OpenAI ``tools`` entry, as a client of the wire (the ``openai`` SDK, raw httpx) sends it."""
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = list(required)
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}
