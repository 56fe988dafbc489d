"""ChatB3n without the network: construction, secrets, tracing params, profile, tools and
structured-output wiring (what gets bound), and errors raised before any request."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableBinding, RunnableSequence
from pydantic import BaseModel, Field, ValidationError

from b3n._errors import B3nConfigurationError, B3nInvalidRequestError
from langchain_b3n import ChatB3n
from langchain_b3n.errors import B3nStructuredOutputWarning
from tests.langchain_tools import get_weather, magic_function

KEY = "sk-unit0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


def _bound_kwargs(runnable: Any) -> dict[str, Any]:
    first = runnable.first if isinstance(runnable, RunnableSequence) else runnable
    assert isinstance(first, RunnableBinding)
    return dict(first.kwargs)


def test_construction_needs_no_key_and_does_no_io() -> None:
    llm = ChatB3n(model="claude-3-5-sonnet-latest")
    assert llm.model_name == "claude-3-5-sonnet-latest"
    assert llm.api_key is None
    assert llm._b3n_client is None and llm._b3n_async_client is None


def test_aliases_and_defaults() -> None:
    assert ChatB3n(model_name="o1-mini").model_name == "o1-mini"
    assert ChatB3n(stop_sequences=["x"]).stop == ["x"]
    llm = ChatB3n()
    assert (llm.model_name, llm.timeout, llm.max_retries, llm.stream_usage, llm.streaming) == (
        "gpt-4o-mini",
        60.0,
        2,
        True,
        False,
    )


def test_missing_key_fails_at_first_call_with_a_hybrid_typed_error() -> None:
    llm = ChatB3n(base_url="http://127.0.0.1:9/v1")
    with pytest.raises(B3nConfigurationError, match="B3N_API_KEY") as info:
        llm.invoke("hi")
    assert isinstance(info.value, ModelInvalidRequestError)


def test_key_never_in_repr_dump_or_str() -> None:
    llm = ChatB3n(api_key=KEY, base_url="https://relay.example/v1")
    assert KEY not in repr(llm)
    assert KEY not in str(llm.model_dump())
    assert KEY not in llm.model_dump_json()
    assert llm.lc_secrets == {"api_key": "B3N_API_KEY"}


def test_unknown_kwargs_are_refused_with_the_closest_name() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an OpenAI field ChatOpenAI takes is a field here too: no warning
        llm = ChatB3n(frequency_penalty=0.5, model_kwargs={"logprobs": True})
    assert llm.model_kwargs == {"logprobs": True} and llm.frequency_penalty == 0.5
    with pytest.raises(B3nInvalidRequestError, match=r"'temprature'. Did you mean 'temperature'.*model_kwargs"):
        ChatB3n(temprature=0.5)


def test_capabilities_are_validated_and_drive_the_profile() -> None:
    with pytest.raises(ValidationError, match="not_a_capability"):
        ChatB3n(model="my-new-model", capabilities={"not_a_capability": True})
    llm = ChatB3n(model="gpt-4-all", capabilities={"tool_calling": True, "context_window": 32_000})
    assert llm.profile is not None
    assert llm.profile["tool_calling"] is True
    assert llm.profile["max_input_tokens"] == 32_000


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-mini", {"tool_calling": True, "structured_output": True, "image_inputs": True, "temperature": True}),
        ("claude-3-5-sonnet-latest", {"tool_calling": True, "structured_output": False, "max_input_tokens": 200_000}),
        ("gemini-1.5-flash-latest", {"tool_calling": True, "structured_output": False, "image_inputs": True}),
        ("o1-mini", {"tool_calling": False, "reasoning_output": True, "temperature": False, "image_inputs": False}),
    ],
)
def test_profile_from_catalog(model: str, expected: dict[str, Any]) -> None:
    profile = ChatB3n(model=model).profile
    assert profile is not None
    for key, value in expected.items():
        assert profile[key] == value, key  # type: ignore[literal-required]


def test_ls_params_honour_per_call_model_and_values() -> None:
    llm = ChatB3n(model="gpt-4o-mini", temperature=0, max_tokens=10, stop=["END"])
    assert llm._get_ls_params() == {
        "ls_provider": "b3n",
        "ls_model_name": "gpt-4o-mini",
        "ls_model_type": "chat",
        "ls_temperature": 0.0,
        "ls_max_tokens": 10,
        "ls_stop": ["END"],
    }
    assert llm._get_ls_params(model="claude-3-5-haiku-latest")["ls_model_name"] == "claude-3-5-haiku-latest"
    assert llm._llm_type == "b3n-chat"
    assert ChatB3n.is_lc_serializable()
    assert ChatB3n.get_lc_namespace() == ["langchain_b3n", "chat_models"]


def test_identifying_params_are_small_and_stable() -> None:
    llm = ChatB3n(model="gpt-4o", temperature=0.2, model_kwargs={"seed": 1})
    assert llm.asdict() == {
        "model_name": "gpt-4o",
        "temperature": 0.2,
        "model_kwargs": {"seed": 1},
        "_type": "b3n-chat",
    }


def test_lc_versions_recorded() -> None:
    llm = ChatB3n()
    assert "b3n-integrations" in (llm.metadata or {}).get("lc_versions", {})


# ----------------------------------------------------------------------------- tools


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("any", "required"),
        (True, "required"),
        ("required", "required"),
        ("auto", "auto"),
        ("none", "none"),
        ("magic_function", {"type": "function", "function": {"name": "magic_function"}}),
    ],
)
def test_bind_tools_maps_tool_choice(choice: Any, wire: Any) -> None:
    bound = ChatB3n().bind_tools([magic_function, get_weather], tool_choice=choice)
    kwargs = _bound_kwargs(bound)
    assert kwargs["tool_choice"] == wire
    assert [t["function"]["name"] for t in kwargs["tools"]] == ["magic_function", "get_weather"]
    assert "parallel_tool_calls" not in kwargs


def test_bind_tools_parallel_and_strict_only_when_set() -> None:
    kwargs = _bound_kwargs(ChatB3n().bind_tools([magic_function]))
    assert "tool_choice" not in kwargs and "parallel_tool_calls" not in kwargs
    assert "strict" not in kwargs["tools"][0]["function"]
    kwargs = _bound_kwargs(ChatB3n().bind_tools([magic_function], parallel_tool_calls=False, strict=True))
    assert kwargs["parallel_tool_calls"] is False
    assert kwargs["tools"][0]["function"]["strict"] is True


def test_bind_tools_unknown_tool_choice_is_a_hybrid_error() -> None:
    with pytest.raises(B3nInvalidRequestError, match="names no bound tool") as info:
        ChatB3n().bind_tools([magic_function], tool_choice="nope")
    assert isinstance(info.value, ModelInvalidRequestError)


# ----------------------------------------------------------------------------- structured output


@pytest.mark.parametrize(
    ("model", "method"),
    [
        ("gpt-4o-mini", "json_schema"),
        ("gpt-4o", "json_schema"),
        ("gpt-4-turbo", "function_calling"),
        ("claude-3-5-sonnet-latest", "function_calling"),
        ("gemini-1.5-flash-latest", "function_calling"),
    ],
)
def test_default_structured_method_is_one_the_model_honours(model: str, method: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runnable = ChatB3n(model=model).with_structured_output(Joke)
    kwargs = _bound_kwargs(runnable)
    assert kwargs["ls_structured_output_format"]["kwargs"]["method"] == method
    if method == "json_schema":
        assert kwargs["response_format"]["type"] == "json_schema"
        assert kwargs["response_format"]["json_schema"]["name"] == "Joke"
        assert "tools" not in kwargs
    else:
        assert kwargs["tool_choice"] == {"type": "function", "function": {"name": "Joke"}}
        assert "response_format" not in kwargs
        assert "parallel_tool_calls" not in kwargs


@pytest.mark.parametrize("method", ["json_schema", "json_mode"])
@pytest.mark.parametrize("model", ["claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"])
def test_response_format_methods_fall_back_for_claude_and_gemini(model: str, method: str) -> None:
    with pytest.warns(B3nStructuredOutputWarning, match="function_calling"):
        runnable = ChatB3n(model=model).with_structured_output(Joke, method=method)  # type: ignore[arg-type]
    kwargs = _bound_kwargs(runnable)
    assert "response_format" not in kwargs
    assert kwargs["tool_choice"]["function"]["name"] == "Joke"


def test_explicit_supported_methods_are_used() -> None:
    llm = ChatB3n(model="gpt-4o-mini")
    assert _bound_kwargs(llm.with_structured_output(Joke, method="json_mode"))["response_format"] == {
        "type": "json_object"
    }
    kwargs = _bound_kwargs(llm.with_structured_output(Joke, method="function_calling", strict=True))
    assert kwargs["tools"][0]["function"]["strict"] is True
    strict = _bound_kwargs(llm.with_structured_output(Joke, method="json_schema", strict=True))["response_format"]
    assert strict["json_schema"]["strict"] is True
    assert strict["json_schema"]["schema"]["additionalProperties"] is False
    # json_mode without a schema returns plain dicts
    assert "response_format" in _bound_kwargs(llm.with_structured_output(None, method="json_mode"))


def test_o1_has_no_structured_output_and_says_what_to_do() -> None:
    with pytest.raises(B3nInvalidRequestError, match="gpt-4o-mini") as info:
        ChatB3n(model="o1-mini").with_structured_output(Joke)
    assert isinstance(info.value, ModelInvalidRequestError)


def test_structured_output_argument_errors() -> None:
    llm = ChatB3n()
    with pytest.raises(B3nInvalidRequestError, match="method="):
        llm.with_structured_output(Joke, method="xml")  # type: ignore[arg-type]
    with pytest.raises(B3nInvalidRequestError, match="schema is required"):
        llm.with_structured_output(None)
    with pytest.raises(B3nInvalidRequestError, match="unsupported arguments"):
        llm.with_structured_output(Joke, tool_choice="any")
    with pytest.raises(B3nInvalidRequestError, match="needs include_raw=True"):
        llm.with_structured_output(Joke, tools=[magic_function])


def test_include_raw_shape() -> None:
    runnable = ChatB3n().with_structured_output(Joke, include_raw=True)
    assert isinstance(runnable, RunnableSequence)


def test_is_a_base_chat_model() -> None:
    assert issubclass(ChatB3n, BaseChatModel)


# ----------------------------------------------------------------------------- cached client lifecycle


def test_config_changes_rebuild_the_cached_client() -> None:
    llm = ChatB3n(api_key=KEY, base_url="https://one.example/v1")
    first = llm.client
    assert llm.client is first  # cached
    assert first.config.base_url == "https://one.example/v1"
    llm.base_url = "https://two.example/v1"
    assert llm.client is not first
    assert llm.client.config.base_url == "https://two.example/v1"
    llm.temperature = 0.5  # not a transport setting: client kept
    assert llm.client.config.base_url == "https://two.example/v1"


def test_copies_never_reuse_a_stale_client() -> None:
    import copy

    llm = ChatB3n(api_key=KEY, base_url="https://one.example/v1", capabilities={"image_inputs": False})
    _ = llm.client, llm.catalog_info()
    moved = llm.model_copy(update={"base_url": "https://two.example/v1"})
    assert moved.client.config.base_url == "https://two.example/v1"
    assert llm.client.config.base_url == "https://one.example/v1"
    same = llm.model_copy(update={"temperature": 0.1})
    assert same.client.config.base_url == "https://one.example/v1"
    deep = copy.deepcopy(llm)
    assert deep.client is not llm.client
    assert deep.client.config.base_url == "https://one.example/v1"
    recap = llm.model_copy(update={"capabilities": {"image_inputs": True}})
    assert recap.catalog_info().image_inputs is True
    assert llm.catalog_info().image_inputs is False
