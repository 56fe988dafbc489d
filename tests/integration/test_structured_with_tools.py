"""``with_structured_output(schema, tools=[...], include_raw=True)`` (as langchain-openai has it): the model either
answers in the schema (``parsed``) or calls a tool (``parsed`` None, the calls on ``raw``), with every method and
on every relay profile."""

from __future__ import annotations

import pytest
from langchain_core.tools import tool
from pydantic import BaseModel

from b3n import B3nInvalidRequestError
from b3n.testing import Emulator
from langchain_b3n import ChatB3n

WEATHER = "What is the weather in 'Paris'?"
QUESTION = "What weighs more, a pound of bricks or a pound of feathers? Give an answer and a justification."


class Answer(BaseModel):
    """The answer to the user."""

    answer: str
    justification: str


@tool
def get_weather(location: str) -> str:
    """Get the current weather at a location."""
    return f"It is sunny in {location}."


@pytest.mark.parametrize("profile", ["docs", "one-api", "new-api"])
@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"])
def test_answer_or_tool_call_on_every_relay(relay_servers: dict[str, Emulator], api_key: str, model: str,
                                           profile: str) -> None:
    emu = relay_servers[profile]
    llm = ChatB3n(model=model, api_key=api_key, base_url=emu.base_url, relay_probe_cache=False)
    structured = llm.with_structured_output(Answer, tools=[get_weather], include_raw=True)
    called = structured.invoke(WEATHER)
    assert called["parsed"] is None and called["parsing_error"] is None
    assert [(c["name"], c["args"]) for c in called["raw"].tool_calls] == [("get_weather", {"location": "Paris"})]
    before = len(emu.requests)
    answered = structured.invoke(QUESTION)
    assert isinstance(answered["parsed"], Answer) and answered["parsing_error"] is None
    chats = [r.json for r in emu.requests[before:] if r.route.endswith("/chat/completions")]
    # where the relay drops tool_choice (Claude and Gemini on one-api and new-api) and the model answers in
    # prose, the core's structured fallback asks once more for the JSON: never more than 2 requests
    assert len(chats) == (1 if profile == "docs" or model == "gpt-4o-mini" else 2)
    sent = chats[0]
    names = [t["function"]["name"] for t in sent["tools"]]
    if model == "gpt-4o-mini":  # json_schema: the tools ride along with response_format
        assert names == ["get_weather"] and sent["response_format"]["type"] == "json_schema"
    else:  # function_calling: the schema is one more tool, and some tool must be called
        assert names == ["get_weather", "Answer"] and "response_format" not in sent


async def test_json_mode_and_dict_schemas_and_strict(emulator: Emulator, base_url: str, api_key: str) -> None:
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url)
    schema = Answer.model_json_schema()
    structured = llm.with_structured_output(schema, method="json_mode", tools=[get_weather], include_raw=True)
    answered = await structured.ainvoke(QUESTION + " Reply in JSON with the keys answer and justification.")
    assert set(answered["parsed"]) == {"answer", "justification"}
    assert emulator.last_request().json["response_format"] == {"type": "json_object"}
    strict = llm.with_structured_output(Answer, tools=[get_weather], include_raw=True, strict=True)
    called = await strict.ainvoke(WEATHER)
    assert called["parsed"] is None and called["raw"].tool_calls[0]["name"] == "get_weather"
    sent = emulator.last_request().json
    assert sent["tools"][0]["function"]["strict"] is True and sent["response_format"]["json_schema"]["strict"] is True


def test_tools_without_include_raw_are_refused_with_the_reason() -> None:
    llm = ChatB3n(model="claude-3-5-sonnet-latest")
    with pytest.raises(B3nInvalidRequestError, match="needs include_raw=True: when the model calls one of the tools"):
        llm.with_structured_output(Answer, tools=[get_weather])
