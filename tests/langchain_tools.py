"""The LangChain tools and schema the agent, chat and relay tests share (LangChain's own docs task).

``magic_function(3)`` is 5 and ``get_weather("Paris")`` is ``"It is sunny and 21 degrees in Paris."``:
the tests assert those results, so every test file imports these rather than defining its own.
"""

from __future__ import annotations

from langchain_core.tools import tool
from pydantic import BaseModel

#: a task that needs both tools (two calls in one turn where the model calls tools in parallel).
TASK = "What is magic_function(3)? And what is the weather in 'Paris'?"


@tool
def magic_function(input: int) -> int:
    """Apply a magic function to an input."""
    return input + 2


@tool
def get_weather(location: str) -> str:
    """Get the current weather at a location."""
    return f"It is sunny and 21 degrees in {location}."


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str
    punchline: str
