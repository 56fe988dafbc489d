"""The emulator's scripted chat model, exercised directly (no HTTP)."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from b3n.testing.chat_request import Tool, parse_chat_request
from b3n.testing.embeddings import EmbeddingEngine, embeddings_body
from b3n.testing.errors import ApiError
from b3n.testing.model import ChatOutcome, complete, complete_body
from b3n.testing.quirks import build_chunks, build_completion
from b3n.testing.tools import parse_literal_call, synthesize_arguments


def user(text: Any) -> dict[str, Any]:
    return {"role": "user", "content": text}


def tool(name: str, params: dict[str, Any], required: list[str] | None = None, description: str = "") -> Tool:
    schema: dict[str, Any] = {"type": "object", "properties": params}
    if required is not None:
        schema["required"] = required
    return Tool(name=name, description=description, parameters=schema)


def fn(t: Tool) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
    }


def run(messages: list[dict[str, Any]], model: str = "gpt-4o-mini", **kw: Any) -> ChatOutcome:
    return complete_body({"model": model, "messages": messages, **kw})


MAGIC = tool(
    "magic_function",
    {"input": {"type": "integer", "exclusiveMinimum": -1000, "exclusiveMaximum": 1000}},
    ["input"],
    "Apply a magic function to an input.",
)
NO_ARGS = tool("magic_function_no_args", {}, None, "Calculate a magic function.")
ADDER = tool(
    "my_adder_tool",
    {"a": {"type": "integer"}, "b": {"type": "integer"}},
    ["a", "b"],
    "Tool that adds two integers. Takes two integers, a and b, and returns their sum.",
)
WEATHER = tool("get_weather", {"location": {"type": "string"}}, ["location"], "Get the weather at a location.")
GREETING = tool(
    "greeting_generator",
    {"answer_style": {"type": "string"}},
    ["answer_style"],
    "Generate a greeting in a particular style of speaking.",
)
CUSTOMER = tool(
    "unicode_customer",
    {"customer_name": {"type": "string"}, "description": {"type": "string"}},
    ["customer_name", "description"],
    "Create a customer with a unicode name.",
)


# -- argument synthesis -----------------------------------------------------------------------------
def test_literal_call_goes_to_first_required_param() -> None:
    assert synthesize_arguments(MAGIC, "What is the value of magic_function(3)? Use the tool.") == {"input": 3}


def test_literal_call_without_arguments() -> None:
    args = synthesize_arguments(NO_ARGS, "What is the value of magic_function_no_args()? Use the tool.")
    assert args == {}


def test_literal_call_keywords_and_strings() -> None:
    t = tool("lookup", {"key": {"type": "string"}, "limit": {"type": "integer"}}, ["key"])
    assert parse_literal_call("lookup", "call lookup('abc', limit=5) now") is not None
    assert synthesize_arguments(t, "call lookup('abc', limit=5) now") == {"key": "abc", "limit": 5}


def test_numbers_fill_integer_params_in_order() -> None:
    assert synthesize_arguments(ADDER, "What is 1 + 2") == {"a": 1, "b": 2}
    assert synthesize_arguments(ADDER, "What is 3 * 4?") == {"a": 3, "b": 4}


def test_numbers_from_tool_results_when_prompt_has_none() -> None:
    args = synthesize_arguments(ADDER, "Add the previous results", tool_results='{"result": 7}\n9')
    assert args == {"a": 7, "b": 9}


def test_cjk_quoted_string_kept_verbatim() -> None:
    text = "Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company"
    args = synthesize_arguments(CUSTOMER, text)
    assert args["customer_name"] == "你好啊集团"
    assert isinstance(args["description"], str) and args["description"]


def test_salient_word_for_style_param() -> None:
    assert synthesize_arguments(GREETING, "Using the tool, generate a Pirate greeting.") == {"answer_style": "Pirate"}


def test_location_phrase() -> None:
    args = synthesize_arguments(WEATHER, "What is the weather in San Francisco, CA?")
    assert args == {"location": "San Francisco, CA"}


def test_enum_boolean_array_nested_and_bounds() -> None:
    t = tool(
        "configure",
        {
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "verbose": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "point": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "integer", "minimum": 10}},
                "required": ["x", "y"],
            },
            "count": {"type": "integer", "maximum": 5},
        },
        ["unit", "mode", "verbose", "tags", "point", "count"],
    )
    args = synthesize_arguments(t, "Use fahrenheit please, count 42")
    assert args["unit"] == "fahrenheit"  # an enum value named in the prompt wins
    assert args["mode"] == "fast"  # otherwise the first value
    assert args["verbose"] is True
    assert isinstance(args["tags"], list) and len(args["tags"]) == 1
    assert args["point"]["y"] >= 10 and isinstance(args["point"]["x"], (int, float))
    assert args["count"] <= 5


def test_refs_and_optional_nullable() -> None:
    schema = {
        "type": "object",
        "$defs": {"Inner": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
        "properties": {
            "inner": {"$ref": "#/$defs/Inner"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        "required": ["inner"],
    }
    args = synthesize_arguments(Tool("t", "", schema), "do it")
    assert isinstance(args["inner"]["name"], str) and args["inner"]["name"]
    assert isinstance(args["note"], str)


# -- tool decisions -------------------------------------------------------------------------------
def test_required_calls_one_tool_with_schema_valid_args() -> None:
    out = run(
        [user("What is the value of magic_function(3)? Use the tool.")], tools=[fn(MAGIC)], tool_choice="required"
    )
    assert out.text is None and out.finish_reason == "tool_calls"
    assert [(c.name, json.loads(c.arguments)) for c in out.tool_calls] == [("magic_function", {"input": 3})]
    assert out.tool_calls[0].id.startswith("call_") and len(out.tool_calls[0].id) == 29


def test_named_tool_choice_and_required_without_relevance() -> None:
    named = {"type": "function", "function": {"name": "magic_function"}}
    out = run([user("Hello!")], tools=[fn(WEATHER), fn(MAGIC)], tool_choice=named)
    assert [c.name for c in out.tool_calls] == ["magic_function"]
    out = run([user("Hello!")], tools=[fn(MAGIC), fn(WEATHER)], tool_choice="required")
    assert [c.name for c in out.tool_calls] == ["magic_function"]


def test_auto_calls_relevant_tools_only() -> None:
    assert run([user("Hello!")], tools=[fn(MAGIC), fn(WEATHER)]).tool_calls == []
    out = run([user("What is the weather in Paris?")], tools=[fn(MAGIC), fn(WEATHER)])
    assert [c.name for c in out.tool_calls] == ["get_weather"]
    assert run([user("What is the weather in Paris?")], tools=[fn(WEATHER)], tool_choice="none").tool_calls == []


def test_parallel_calls_and_parallel_false() -> None:
    prompt = [user("What is the weather in Paris and magic_function(5)?")]
    both = run(prompt, tools=[fn(WEATHER), fn(MAGIC)])
    assert [c.name for c in both.tool_calls] == ["get_weather", "magic_function"]
    assert len({c.id for c in both.tool_calls}) == 2
    one = run(prompt, tools=[fn(WEATHER), fn(MAGIC)], parallel_tool_calls=False)
    assert [c.name for c in one.tool_calls] == ["get_weather"]


def agent_history() -> list[dict[str, Any]]:
    return [
        user("What is 1 + 2"),
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "abc123",
                    "type": "function",
                    "function": {"name": "my_adder_tool", "arguments": '{"a":1,"b":2}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "abc123", "content": '{"result": 3}'},
    ]


def test_tool_result_turn_answers_with_the_result() -> None:
    out = run(agent_history(), tools=[fn(ADDER)])
    assert out.tool_calls == []
    assert out.text == 'The result of my_adder_tool is {"result": 3}.'
    errored = agent_history()
    errored[-1]["content"] = "Error: Missing required argument 'b'."
    assert "returned an error" in (run(errored, tools=[fn(ADDER)]).text or "")


def test_already_called_tool_not_called_again_under_auto() -> None:
    history = [*agent_history()[:-1], agent_history()[-1], {"role": "assistant", "content": "3"}]
    history += [user("What is 3 + 4")]
    assert run(history, tools=[fn(ADDER)]).text == "3 + 4 = 7."
    forced = run(history, tools=[fn(ADDER)], tool_choice="required")
    assert json.loads(forced.tool_calls[0].arguments) == {"a": 3, "b": 4}


def test_family_call_ids_and_claude_empty_arguments() -> None:
    prompt = [user("What is the value of magic_function_no_args()? Use the tool.")]
    claude = run(prompt, model="claude-3-5-sonnet-latest", tools=[fn(NO_ARGS)], tool_choice="required")
    assert claude.tool_calls[0].arguments == ""
    assert claude.tool_calls[0].id.startswith("toolu_01") and len(claude.tool_calls[0].id) == 30
    gemini = run(prompt, model="gemini-1.5-flash-latest", tools=[fn(NO_ARGS)], tool_choice="required")
    assert gemini.tool_calls[0].arguments == "{}"
    gid = gemini.tool_calls[0].id
    assert gid.startswith("call_") and all(ch in "0123456789abcdef" for ch in gid[5:])


def test_gpt4_pretty_prints_arguments_and_cjk_unescaped() -> None:
    out = run([user("What is the weather in Shanghai?")], model="gpt-4", tools=[fn(WEATHER)])
    assert out.tool_calls[0].arguments == '{\n "location": "Shanghai"\n}'
    cjk = run([user("Create a customer named '你好啊集团'")], tools=[fn(CUSTOMER)], tool_choice="required")
    assert "你好啊集团" in cjk.tool_calls[0].arguments


def test_reverse_models_ignore_tools() -> None:
    out = run([user("What is the weather in Paris?")], model="gpt-4o-all", tools=[fn(WEATHER)])
    assert out.tool_calls == [] and out.text


# -- turns: chained steps, forced finishing calls, thought signatures --------------------------------
INTS = {"a": {"type": "integer"}, "b": {"type": "integer"}}
MUL = tool("multiply", INTS, ["a", "b"], "Multiply two integers and return the product.")
ADD = tool("add", INTS, ["a", "b"], "Add two integers and return the sum.")
SUB = tool("subtract", INTS, ["a", "b"], "Subtract b from a.")
DIV = tool("divide", INTS, ["a", "b"], "Divide a by b.")
ARITH = [MUL, ADD, SUB, DIV]


def _apply(name: str, args: dict[str, Any]) -> int:
    a, b = args["a"], args["b"]
    return {"multiply": a * b, "add": a + b, "subtract": a - b, "divide": a // b}[name]


def drive(
    prompt: str, tools: list[Tool], model: str = "gpt-4o-mini", limit: int = 6, **kw: Any
) -> tuple[list[tuple[str, dict[str, Any]]], ChatOutcome]:
    """Run the tool loop like an agent; returns the calls in order and the final outcome."""
    messages: list[dict[str, Any]] = [user(prompt)]
    calls: list[tuple[str, dict[str, Any]]] = []
    for _ in range(limit):
        out = run(messages, model=model, tools=[fn(t) for t in tools], **kw)
        if not out.tool_calls:
            return calls, out
        wire = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in out.tool_calls
        ]
        messages.append({"role": "assistant", "content": None, "tool_calls": wire})
        for c in out.tool_calls:
            args = json.loads(c.arguments or "{}")
            calls.append((c.name, args))
            content = str(_apply(c.name, args)) if c.name in ("multiply", "add", "subtract", "divide") else "done"
            messages.append({"role": "tool", "tool_call_id": c.id, "content": content})
    raise AssertionError(f"no final answer after {limit} model calls: {calls}")


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("What is 3 * 4? Then add 5 to the result.", [("multiply", {"a": 3, "b": 4}), ("add", {"a": 12, "b": 5})]),
        ("multiply 3 and 4, then add 5 to that", [("multiply", {"a": 3, "b": 4}), ("add", {"a": 12, "b": 5})]),
        ("Multiply 3 by 4 and then add 5.", [("multiply", {"a": 3, "b": 4}), ("add", {"a": 12, "b": 5})]),
        (
            "What is 3 * 4? Then subtract 2 from the result.",
            [("multiply", {"a": 3, "b": 4}), ("subtract", {"a": 12, "b": 2})],
        ),
        (
            "Add 10 and 20. After that, divide the result by 5. Finally multiply it by 3.",
            [("add", {"a": 10, "b": 20}), ("divide", {"a": 30, "b": 5}), ("multiply", {"a": 6, "b": 3})],
        ),
        (
            "Use add to add 1 and 2, then use multiply to multiply 3 and 4.",
            [("add", {"a": 1, "b": 2}), ("multiply", {"a": 3, "b": 4})],
        ),
    ],
)
def test_chained_steps_use_the_previous_result(prompt: str, expected: list[Any]) -> None:
    calls, final = drive(prompt, ARITH)
    assert calls == expected
    last = _apply(*expected[-1])
    assert final.text is not None and final.text.endswith(f"The final result is {last}.")


@pytest.mark.parametrize("model", ["claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"])
def test_chained_steps_one_call_per_request_for_every_family(model: str) -> None:
    calls, final = drive("What is 3 * 4? Then add 5 to the result.", [ADD, MUL], model=model)
    assert calls == [("multiply", {"a": 3, "b": 4}), ("add", {"a": 12, "b": 5})]
    assert "17" in (final.text or "")


def test_independent_tools_still_called_in_parallel() -> None:
    out = run(
        [user("Use the multiply tool to multiply 3 and 4, and use the add tool to add 3 and 4.")],
        tools=[fn(MUL), fn(ADD)],
    )
    assert [(c.name, json.loads(c.arguments)) for c in out.tool_calls] == [
        ("multiply", {"a": 3, "b": 4}),
        ("add", {"a": 3, "b": 4}),
    ]


def test_chain_stops_at_a_failed_step() -> None:
    history: list[dict[str, Any]] = [user("What is 3 * 4? Then add 5 to the result.")]
    first = run(history, tools=[fn(MUL), fn(ADD)]).tool_calls[0]
    history += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": first.id, "type": "function", "function": {"name": "multiply", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": first.id, "content": "Error: missing argument 'b'"},
    ]
    out = run(history, tools=[fn(MUL), fn(ADD)])
    assert out.tool_calls == [] and "returned an error" in (out.text or "")


def test_parallel_false_calls_the_remaining_tools_one_by_one() -> None:
    calls, final = drive(
        "What is the weather in Paris and magic_function(5)?", [WEATHER, MAGIC], parallel_tool_calls=False
    )
    assert calls == [("get_weather", {"location": "Paris"}), ("magic_function", {"input": 5})]
    assert final.text is not None and "magic_function" in final.text


def test_required_prefers_a_tool_not_called_in_this_turn() -> None:
    report = tool(
        "Report",
        {"magic_value": {"type": "integer"}, "weather": {"type": "string"}, "summary": {"type": "string"}},
        ["magic_value", "weather", "summary"],
        "The final report.",
    )
    history: list[dict[str, Any]] = [user("What is magic_function(3)? And what is the weather in 'Paris'?")]
    tools = [fn(MAGIC), fn(WEATHER), fn(report)]
    first = run(history, tools=tools, tool_choice="required")
    assert [c.name for c in first.tool_calls] == ["magic_function", "get_weather"]  # the schema tool waits
    history.append(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in first.tool_calls
            ],
        }
    )
    history += [
        {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "5"},
        {"role": "tool", "tool_call_id": first.tool_calls[1].id, "content": "It is sunny in Paris."},
    ]
    second = run(history, tools=tools, tool_choice="required")
    assert [c.name for c in second.tool_calls] == ["Report"]
    assert json.loads(second.tool_calls[0].arguments) == {
        "magic_value": 5,
        "weather": "It is sunny in Paris.",
        "summary": "The result of magic_function is 5. The result of get_weather is It is sunny in Paris.",
    }
    # a named tool_choice still wins, and the schema tool is not preferred over a requested tool
    named = {"type": "function", "function": {"name": "magic_function"}}
    assert [c.name for c in run(history, tools=tools, tool_choice=named).tool_calls] == ["magic_function"]
    # with every tool called, required falls back to the best match
    history_all = [
        *history,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "x1", "type": "function", "function": {"name": "Report", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "x1", "content": "ok"},
    ]
    assert len(run(history_all, tools=tools, tool_choice="required").tool_calls) == 1


def test_json_schema_answer_after_tools_reports_the_results() -> None:
    schema = {"type": "object", "properties": {"magic_value": {"type": "integer"}}, "required": ["magic_value"]}
    history: list[dict[str, Any]] = [
        user("What is magic_function(3)?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "magic_function", "arguments": '{"input":3}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "5"},
    ]
    rf = {"type": "json_schema", "json_schema": {"name": "R", "schema": schema}}
    out = run(history, tools=[fn(MAGIC)], response_format=rf)
    assert json.loads(out.text or "") == {"magic_value": 5}


def test_gemini_calls_carry_a_thought_signature() -> None:
    from b3n.testing.signatures import thought_signature

    prompt = [user("What is the weather in Paris and magic_function(5)?")]
    body = {"model": "gemini-1.5-pro-latest", "messages": prompt, "tools": [fn(WEATHER), fn(MAGIC)]}
    req = parse_chat_request(body)
    out = complete(req)
    assert [c.signature for c in out.tool_calls] == [thought_signature(c.id) for c in out.tool_calls]
    message = build_completion(req, out, quirks=True, created=0)["choices"][0]["message"]
    assert [c["extra_content"]["google"]["thought_signature"] for c in message["tool_calls"]] == [
        c.signature for c in out.tool_calls
    ]
    chunks = build_chunks(parse_chat_request({**body, "stream": True}), out, quirks=True, created=0)
    assert all("extra_content" in c for c in chunks[0]["choices"][0]["delta"]["tool_calls"])
    for model in ("gpt-4o-mini", "claude-3-5-sonnet-latest"):
        assert all(c.signature is None for c in run(prompt, model=model, tools=[fn(WEATHER), fn(MAGIC)]).tool_calls)
    no_quirks = complete_body(body, quirks=False)
    assert all(c.signature is None for c in no_quirks.tool_calls)


def test_signature_book_checks_the_current_turn_only() -> None:
    from b3n.testing.signatures import SignatureBook, thought_signature

    book = SignatureBook(limit=2)
    sig = thought_signature("call_a")
    book.remember("call_a", sig)

    def history(extra: dict[str, Any] | None, *, new_turn: bool = False) -> dict[str, Any]:
        call = {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{}"}, **(extra or {})}
        msgs = [
            user("x"),
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_a", "content": "1"},
        ]
        if new_turn:
            msgs += [{"role": "assistant", "content": "1"}, user("y")]
        return {"model": "gemini-1.5-pro-latest", "messages": msgs}

    signed = {"extra_content": {"google": {"thought_signature": sig}}}
    book.check(parse_chat_request(history(signed)))
    book.check(parse_chat_request(history(None, new_turn=True)))
    with pytest.raises(ApiError, match="missing a thought_signature") as info:
        book.check(parse_chat_request(history(None)))
    assert info.value.status == 400 and info.value.code == "invalid_argument"
    with pytest.raises(ApiError, match="Corrupted"):
        book.check(parse_chat_request(history({"extra_content": {"google": {"thought_signature": "x"}}})))
    book.remember("call_b", "s")
    book.remember("call_c", "s")  # bounded: the oldest id is forgotten
    assert book.issued("call_a") is None and len(book) == 2


# -- text replies ---------------------------------------------------------------------------------
def test_plain_replies_are_deterministic_and_non_empty() -> None:
    assert run([user("say 1")]).text == "1"
    hello = run([user("Hello")]).text
    assert hello == "Hello! I am the B3n emulator (model gpt-4o-mini). You said: Hello"
    assert run([user("Hello")]) == run([user("Hello")])
    assert run([user("1+1=2?")]).text == "Yes, 1 + 1 = 2."
    double = [
        {"role": "system", "content": "a"},
        {"role": "system", "content": "b"},
        user("hello"),
        user("hello"),
        {"role": "assistant", "content": "x", "name": "bot"},
        {"role": "assistant", "content": "y"},
        {"role": "user", "content": "how are you", "name": "example_user"},
    ]
    assert run(double).text


def test_extractive_rag_llamaindex_template() -> None:
    prompt = (
        "Context information is below.\n---------------------\nfile_path: /data/paris.txt\n\n"
        "Paris is the capital of France. The Eiffel Tower is 330 metres tall. Berlin is in Germany.\n"
        "---------------------\nGiven the context information and not prior knowledge, answer the query.\n"
        "Query: How tall is the Eiffel Tower?\nAnswer: "
    )
    assert run([user(prompt)]).text == "The Eiffel Tower is 330 metres tall."


def test_extractive_rag_langchain_template() -> None:
    prompt = (
        "You are an assistant for question-answering tasks. Use the following pieces of retrieved context "
        "to answer the question.\nQuestion: Where do cats sleep? \nContext: Dogs love walks in the park.\n\n"
        "Cats sleep in warm, sunny places.\n\nBirds sing at dawn. \nAnswer:"
    )
    assert run([user(prompt)]).text == "Cats sleep in warm, sunny places."


REFINE = (
    "The original query is as follows: How tall is the Eiffel Tower?\nWe have provided an existing answer: "
    "It is tall.\nWe have the opportunity to refine the existing answer (only if needed) with some more context "
    "below.\n------------\nThe Eiffel Tower is 330 metres tall. It is in Paris.\n------------\nGiven the new "
    "context, refine the original answer to better answer the query.\nRefined Answer: "
)
CONDENSE_SYSTEM = (
    "The following is a friendly conversation between a user and an AI assistant.\nHere are the relevant "
    "documents for the context:\n\nCats sleep 16 hours a day. Dogs bark loudly.\n\nInstruction: Based on the "
    "above documents, provide a detailed answer for the user question below."
)
STUFF_SYSTEM = (
    "Use the given context to answer the question. If you don't know the answer, say you don't know. "
    "Context: Bananas are yellow. The sky is blue because of Rayleigh scattering. Grass is green."
)


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([user(REFINE)], "The Eiffel Tower is 330 metres tall."),
        (
            [{"role": "system", "content": CONDENSE_SYSTEM}, user("How long do cats sleep?")],
            "Cats sleep 16 hours a day.",
        ),
        (
            [{"role": "system", "content": STUFF_SYSTEM}, user("Why is the sky blue?")],
            "The sky is blue because of Rayleigh scattering.",
        ),
    ],
)
def test_extractive_rag_other_templates(messages: list[dict[str, Any]], expected: str) -> None:
    assert run(messages).text == expected


def test_stop_and_max_tokens() -> None:
    out = run([user("Hello there")], stop=["emulator"])
    assert out.text == "Hello! I am the B3n" and out.finish_reason == "stop"
    out = run([user("Hello there my friend")], max_tokens=5)
    assert out.text == "Hello! I am the" and out.finish_reason == "length" and out.completion_tokens == 5
    out = run([user("say 1")], model="o1-mini", max_completion_tokens=1000)
    assert out.text == "1" and out.reasoning_tokens == 2 and out.completion_tokens == 3


def test_reply_chunks_forces_word_count() -> None:
    req = parse_chat_request({"model": "gpt-4o-mini", "messages": [user("Hello")]})
    assert len((complete(req, reply_chunks=50).text or "").split()) == 50


def test_images_described_and_rejected_for_text_only_models() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    assert (run([user(content)]).text or "").startswith("I see 1 image (image/png, 8 bytes)")
    with pytest.raises(ApiError, match="image_url is only supported by certain models"):
        run([user(content)], model="gpt-3.5-turbo")


def test_opus_thinking_prefix() -> None:
    text = run([user("say 1")], model="claude-3-opus-latest").text or ""
    assert text.startswith("<thinking>\nThe user asks") and text.endswith("</thinking>\n1")


# -- structured output ----------------------------------------------------------------------------
class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str | None = Field(default=None, description="answer to resolve the joke")


class Address(BaseModel):
    street: str
    city: str
    zip_code: str = Field(min_length=5, max_length=5)


class Person(BaseModel):
    name: str
    age: int = Field(ge=0, le=150)
    email: str | None = None
    role: Literal["admin", "user"]
    scores: list[float] = Field(min_length=2)
    address: Address
    friends: list[Address] = []


def schema_format(model: type[BaseModel]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": model.__name__, "schema": model.model_json_schema()}}


@pytest.mark.parametrize("model_cls", [Joke, Person, Address])
def test_json_schema_instances_validate(model_cls: type[BaseModel]) -> None:
    out = run([user("Tell me a joke about cats.")], response_format=schema_format(model_cls))
    model_cls.model_validate_json(out.text or "")


def test_json_schema_optional_field_follows_the_prompt() -> None:
    fmt = schema_format(Joke)
    with_punchline = json.loads(run([user("Tell me a joke about cats.")], response_format=fmt).text or "")
    assert with_punchline == {
        "setup": "Why did the cat sit on the computer?",
        "punchline": "To keep an eye on the mouse.",
    }
    setup_only = json.loads(
        run([user("Give me the setup to a joke about cats, no punchline.")], response_format=fmt).text or ""
    )
    assert set(setup_only) == {"setup"}


def test_json_object_keys_from_prompt() -> None:
    msg = (
        "Tell me a joke about cats. Return the result as a JSON with 'setup' and 'punchline' keys. "
        "Return nothing other than JSON."
    )
    obj = json.loads(run([user(msg)], response_format={"type": "json_object"}).text or "")
    assert set(obj) == {"setup", "punchline"} and all(isinstance(v, str) and v for v in obj.values())
    obj = json.loads(
        run([user("Reply in JSON with fields name and city")], response_format={"type": "json_object"}).text or ""
    )
    assert set(obj) == {"name", "city"}
    with pytest.raises(ApiError, match="must contain the word 'json'"):
        run([user("hi")], response_format={"type": "json_object"})


def test_claude_and_gemini_ignore_response_format() -> None:
    fmt = {"type": "json_object"}
    for model in ("claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"):
        text = run([user("Tell me a joke in JSON with 'setup' and 'punchline'")], model=model, response_format=fmt).text
        assert text is not None and not text.startswith("{")
    clean = complete_body(
        {"model": "claude-3-5-sonnet-latest", "messages": [user("JSON with 'a'")], "response_format": fmt}, quirks=False
    )
    assert json.loads(clean.text or "") == {"a": "sample a"}


def test_embedded_format_instructions_give_json() -> None:
    instructions = (
        "Tell me a joke about cats.\nThe output should be formatted as a JSON instance that conforms to the JSON "
        "schema below.\n```\n" + json.dumps(Joke.model_json_schema()) + "\n```"
    )
    Joke.model_validate_json(run([user(instructions)]).text or "")


def test_embedded_schema_with_escaped_braces() -> None:
    schema = json.dumps(Joke.model_json_schema()).replace("{", "{{").replace("}", "}}")
    prompt = f"Tell me a joke about dogs.\nHere's a JSON schema to follow:\n{schema}\n\nOutput a valid JSON object."
    joke = Joke.model_validate_json(run([user(prompt)], model="o1-mini").text or "")
    assert joke.setup == "Why did the dog sit in the shade?"


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"messages": []}, "too short"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "Supported values"),
        ({"messages": [user("x")], "n": 0}, "from 1 to 128"),
        ({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "1"}]}, "preceeding"),
        (
            {
                "messages": [
                    user("x"),
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "a", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}
                        ],
                    },
                ]
            },
            "expected a string",
        ),
        ({"messages": [user("x")], "tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "pattern"),
        (
            {
                "messages": [user("x")],
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}],
            },
            'type: "object"',
        ),
        ({"messages": [user("x")], "tool_choice": "auto"}, "only allowed when 'tools'"),
        ({"messages": [user("x")], "stream_options": {"include_usage": True}}, "only allowed when 'stream'"),
        ({"messages": [user("x")], "temperature": 3}, "temperature"),
    ],
)
def test_request_validation(body: dict[str, Any], match: str) -> None:
    with pytest.raises(ApiError, match=match) as info:
        parse_chat_request({"model": "gpt-4o-mini", **body})
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"messages": [{"role": "system", "content": "s"}, user("x")]}, "does not support 'system'"),
        ({"messages": [user("x")], "temperature": 0}, "temperature"),
        ({"messages": [user("x")], "max_tokens": 10}, "max_completion_tokens"),
        ({"messages": [user("x")], "stream": True}, "'stream' does not support true"),
        ({"messages": [user("x")], "tools": [fn(MAGIC)]}, "tools"),
    ],
)
@pytest.mark.parametrize("quirks", [True, False])
def test_o1_rules_hold_even_without_quirks(body: dict[str, Any], match: str, quirks: bool) -> None:
    with pytest.raises(ApiError, match=match):
        parse_chat_request({"model": "o1-preview", **body}, quirks=quirks)


def test_claude_rejects_empty_text_only_with_quirks() -> None:
    with pytest.raises(ApiError, match="text content blocks must be non-empty"):
        parse_chat_request({"model": "claude-3-5-haiku-latest", "messages": [user("")]})
    parse_chat_request({"model": "claude-3-5-haiku-latest", "messages": [user("")]}, quirks=False)


def test_model_availability() -> None:
    with pytest.raises(ApiError, match="无可用渠道") as info:
        parse_chat_request({"model": "unknown-model", "messages": [user("x")]})
    assert info.value.status == 503 and info.value.code == "model_not_found"
    with pytest.raises(ApiError) as info:
        parse_chat_request({"model": "text-embedding-3-small", "messages": [user("x")]})
    assert info.value.status == 400
    parse_chat_request({"model": "gpt-5-preview", "messages": [user("x")]})  # family prefixes are open-ended
    parse_chat_request({"model": "deepseek-chat", "messages": [user("x")]})


# -- shaping and embeddings -----------------------------------------------------------------------
def test_shapes_per_family() -> None:
    def shaped(model: str, quirks: bool = True) -> dict[str, Any]:
        req = parse_chat_request({"model": model, "messages": [user("Hello")]}, quirks=quirks)
        return build_completion(req, complete(req, quirks=quirks), quirks=quirks, created=1)

    assert shaped("gpt-4o-mini")["model"] == "gpt-4o-mini-2024-07-18"
    assert shaped("gpt-4")["system_fingerprint"] is None
    assert shaped("gpt-4o-mini", quirks=False)["model"] == "gpt-4o-mini"
    assert "model" not in shaped("gemini-1.5-flash-latest")
    assert shaped("gemini-1.5-pro-latest")["model"] == ""
    assert shaped("gemini-1.5-pro-latest")["choices"][0]["message"]["content"].endswith(" \n")
    assert "system_fingerprint" not in shaped("claude-3-5-sonnet-latest")
    assert "logprobs" not in shaped("o1-mini")["choices"][0]


def test_stream_chunks_are_word_pieces_with_usage_last() -> None:
    req = parse_chat_request(
        {"model": "gpt-4o-mini", "messages": [user("Hello")], "stream": True, "stream_options": {"include_usage": True}}
    )
    out = complete(req)
    chunks = build_chunks(req, out, quirks=True, created=1)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == out.text
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


def test_embeddings_are_deterministic_normalised_and_similar() -> None:
    engine = EmbeddingEngine()
    a = engine.vector("the cat sat on the mat", 1536)
    b = engine.vector("the cat sat on the mat", 1536)
    c = engine.vector("a cat on a mat", 1536)
    d = engine.vector("quantum chromodynamics lecture", 1536)
    assert a == b and len(a) == 1536
    assert abs(sum(x * x for x in a) - 1.0) < 1e-5

    def cos(x: list[float], y: list[float]) -> float:
        return sum(p * q for p, q in zip(x, y, strict=True))

    assert cos(a, c) > cos(a, d) + 0.3
    body = json.loads(
        embeddings_body({"model": "text-embedding-3-large", "input": ["x", "y"], "dimensions": 256}, engine)
    )
    assert [len(item["embedding"]) for item in body["data"]] == [256, 256]
    assert [item["index"] for item in body["data"]] == [0, 1]


# -- text ReAct agents ----------------------------------------------------------------------------------
LI_REACT_SYSTEM = (
    "You have access to the following tools:\n"
    "> Tool Name: multiply\nTool Description: multiply(a: int, b: int) -> int\nMultiply two integers.\n"
    'Tool Args: {"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"], '
    '"type": "object"}\n\n## Output Format\n```\nThought: ...\nAction: tool name (one of multiply) if using a tool.\n'
    'Action Input: the input to the tool, in a JSON format representing the kwargs (e.g. {"input": "hello world"})\n'
    "```\nIf this format is used, the tool will respond in the following format:\n```\nObservation: tool response\n```\n"
    "Thought: I can answer without using any more tools.\nAnswer: [your answer here]\n"
)
LC_REACT_PROMPT = (
    "Answer the following questions as best you can. You have access to the following tools:\n\n"
    "get_word_length(word: str) -> int - Returns the length of a word.\n\nUse the following format:\n\n"
    "Question: the input question you must answer\nThought: you should always think about what to do\n"
    "Action: the action to take, should be one of [get_word_length]\nAction Input: the input to the action\n"
    "Observation: the result of the action\nThought: I now know the final answer\n"
    "Final Answer: the final answer to the original input question\n\nBegin!\n\n"
    "Question: What is the word length of 'educa'?\nThought:"
)


def test_react_llamaindex_format() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": LI_REACT_SYSTEM},
        user("Use the multiply tool to multiply 6 and 7."),
    ]
    step = run(messages).text or ""
    assert step.startswith("Thought: The current language of the user is: English.")
    assert step.endswith('Action: multiply\nAction Input: {"a": 6, "b": 7}')
    messages += [{"role": "assistant", "content": step}, user("Observation: 42")]
    final = run(messages).text or ""
    assert final.endswith("\nAnswer: The result of multiply is 42.")


def test_react_langchain_classic_format() -> None:
    step = run([user(LC_REACT_PROMPT)], stop=["\nObservation"]).text or ""
    assert step == "I need to use the get_word_length tool.\nAction: get_word_length\nAction Input: educa"
    scratch = LC_REACT_PROMPT + " " + step + "\nObservation: 5\nThought:"
    assert run([user(scratch)]).text == "I now know the final answer\nFinal Answer: The result of get_word_length is 5."


def test_docstring_examples_run() -> None:
    import doctest

    import b3n.testing as package
    from b3n.testing import model, server, tools

    for module in (package, server, model, tools):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__
