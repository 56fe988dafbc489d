"""Structured output against a model that answers in prose unless a tool is forced (``prose_unless_forced``).

Real models often answer an offered but unforced tool in prose. LlamaIndex's ``FunctionCallingProgram.stream_call``
(behind ``stream_structured_predict`` and ``as_structured_llm(...).stream_chat``) drops ``tool_required``, so without
forcing, such a model left the object empty: ``Movie(title=None, year=None)`` and no error. Every structured path
must give the object, or raise a typed error where the relay drops the forcing; never an empty object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.program import FunctionCallingProgram
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

from b3n._chat.structured import B3nStructuredOutputError
from b3n.testing import Emulator
from llama_index_b3n import B3n
from tests.conftest import RELAY_PROFILES, relay_fleet
from tests.framework_inputs import MOVIE_TEXT, Movie

MODELS = ["gpt-4o-mini", "gpt-4", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"]
RELAYS = RELAY_PROFILES
PROMPT = PromptTemplate("Name the movie in this text with its year: {text}")


@pytest.fixture(scope="module")
def prose_emulators() -> Iterator[dict[str, Emulator]]:
    with relay_fleet(prose_unless_forced=True) as emulators:
        yield emulators


def _last(items: Any) -> Any:
    seen = list(items)
    return seen[-1] if seen else None


async def _alast(items: Any) -> Any:
    seen = [item async for item in items]
    return seen[-1] if seen else None


def _messages() -> list[ChatMessage]:
    return [ChatMessage(role="user", content=PROMPT.format(text=MOVIE_TEXT))]


def _program(llm: B3n) -> FunctionCallingProgram[Movie]:
    return FunctionCallingProgram.from_defaults(output_cls=Movie, prompt=PROMPT, llm=llm)


PATHS: dict[str, Callable[[B3n], Any]] = {
    "structured_predict": lambda llm: llm.structured_predict(Movie, PROMPT, text=MOVIE_TEXT),
    "stream_structured_predict": lambda llm: _last(llm.stream_structured_predict(Movie, PROMPT, text=MOVIE_TEXT)),
    "as_structured_llm.chat": lambda llm: llm.as_structured_llm(Movie).chat(_messages()).raw,
    "as_structured_llm.stream_chat": lambda llm: _last(llm.as_structured_llm(Movie).stream_chat(_messages())).raw,
    "FunctionCallingProgram.stream_call": lambda llm: _last(_program(llm).stream_call(text=MOVIE_TEXT)),
    "FunctionCallingProgram.call": lambda llm: _program(llm)(text=MOVIE_TEXT),
}
ASYNC_PATHS: dict[str, Callable[[B3n], Any]] = {
    "astream_structured_predict": lambda llm: llm.astream_structured_predict(Movie, PROMPT, text=MOVIE_TEXT),
    "as_structured_llm.astream_chat": lambda llm: llm.as_structured_llm(Movie).astream_chat(_messages()),
    "FunctionCallingProgram.astream_call": lambda llm: _program(llm).astream_call(text=MOVIE_TEXT),
}


def _check(result: Any) -> None:
    movie = result.raw if isinstance(result, ChatResponse) else result
    if isinstance(movie, BaseModel) and not isinstance(movie, Movie):
        movie = Movie.model_validate(movie.model_dump())
    assert isinstance(movie, Movie), movie
    assert movie.title and movie.year, f"an empty object came back: {movie!r}"


@pytest.fixture
def prose_llm(prose_emulators: dict[str, Emulator], api_key: str, relay: str, model: str) -> B3n:
    """The test's ``model`` on the reset prose emulator of its ``relay``, without retries."""
    emu = prose_emulators[relay]
    emu.reset()
    return B3n(model=model, api_key=api_key, api_base=emu.base_url, max_retries=0)


@pytest.mark.parametrize("relay", RELAYS)
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("path", sorted(PATHS))
def test_structured_path_gives_the_object_or_raises(prose_llm: B3n, path: str) -> None:
    try:
        result = PATHS[path](prose_llm)
    except B3nStructuredOutputError as exc:  # the relay dropped the forcing: said, not an empty object
        assert "Movie" in str(exc) or "JSON" in str(exc) or "tool" in str(exc)
        return
    _check(result)


@pytest.mark.parametrize("relay", RELAYS)
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("path", sorted(ASYNC_PATHS))
async def test_async_structured_path_gives_the_object_or_raises(prose_llm: B3n, path: str) -> None:
    try:
        result = await _alast(await ASYNC_PATHS[path](prose_llm))
    except B3nStructuredOutputError:
        return
    _check(result)


@pytest.mark.parametrize("model", ["gpt-4", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"])
def test_streamed_program_forces_its_tool_on_the_docs_relay(
    prose_emulators: dict[str, Emulator], api_key: str, model: str
) -> None:
    emu = prose_emulators["docs"]
    emu.reset()
    llm = B3n(model=model, api_key=api_key, api_base=emu.base_url)
    movie = _last(_program(llm).stream_call(text=MOVIE_TEXT))
    assert movie == Movie(title="Alien", year=1979) or (movie.title and movie.year)
    assert emu.last_request("chat").json["tool_choice"] == "required"  # type: ignore[index]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_model_that_ignores_the_forcing_raises_instead_of_an_empty_object(
    prose_emulators: dict[str, Emulator], api_key: str, model: str, path: str
) -> None:
    emu = prose_emulators["docs"]
    emu.reset()
    emu.script(*["I think it was Alien, from 1979."] * 3)  # prose, whatever the request forces
    llm = B3n(model=model, api_key=api_key, api_base=emu.base_url, max_retries=0)
    with pytest.raises(B3nStructuredOutputError):
        PATHS[path](llm)
    assert 1 <= emu.count("chat") <= 2


#: where the relay streams a forced tool call as it is written (the docs say where it does not).
STREAMS_PARTIALS = {(relay, model) for relay in RELAYS for model in ("gpt-4o-mini", "gpt-4")} | {
    ("docs", "claude-3-5-sonnet-latest")}


@pytest.mark.parametrize("relay", RELAYS)
@pytest.mark.parametrize("model", MODELS)
def test_structured_streams_grow_where_the_relay_streams_the_call(
    prose_emulators: dict[str, Emulator], api_key: str, relay: str, model: str
) -> None:
    emu = prose_emulators[relay]
    emu.reset()
    llm = B3n(model=model, api_key=api_key, api_base=emu.base_url)
    for stream in (llm.stream_structured_predict(Movie, PROMPT, text=MOVIE_TEXT),
                   (r.raw for r in llm.as_structured_llm(Movie).stream_chat(_messages()))):
        seen = [p.model_dump_json() for p in stream]
        _check(Movie.model_validate_json(seen[-1]))
        distinct = len(dict.fromkeys(seen))
        if (relay, model) in STREAMS_PARTIALS:
            assert distinct >= 3, seen  # partial objects, filling up
        else:
            assert distinct >= 1
