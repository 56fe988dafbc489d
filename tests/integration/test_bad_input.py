"""Bad input is refused before any request, with a typed error that says what to do.

Every case runs against the emulator and then checks ``emulator.total_requests == 0``: the
input never reached the wire. Errors are ``B3nInvalidRequestError`` (also a ``ValueError``) or,
for client settings, ``B3nConfigurationError``; LangChain classes raise the hybrid that is also
``langchain_core.exceptions.ModelInvalidRequestError``, and LangChain tools raise
``B3nToolInputError`` (a ``ToolException``, so an agent can hand the message back to the model).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core import exceptions as lc

from b3n import _errors as e
from b3n.testing import Emulator

KEY = "sk-badinput0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"
MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[str, Path], Any]  # (base_url, tmp dir) -> result or coroutine
    cls: type[e.B3nError]
    #: a phrase of the message that tells the user what is wrong / what to do (case-insensitive)
    says: str
    langchain: bool = False


# ---------------------------------------------------------------------------------------------- builders


def chat_b3n(base_url: str, **kw: Any) -> Any:
    from langchain_b3n import ChatB3n

    kw.setdefault("api_key", KEY)
    return ChatB3n(base_url=base_url, **kw)


def li_b3n(base_url: str, **kw: Any) -> Any:
    from llama_index_b3n import B3n

    kw.setdefault("api_key", KEY)
    return B3n(api_base=base_url, **kw)


def client(base_url: str, **kw: Any) -> Any:
    from b3n import B3nClient

    kw.setdefault("api_key", KEY)
    return B3nClient(base_url=base_url, **kw)


def aclient(base_url: str, **kw: Any) -> Any:
    from b3n import AsyncB3nClient

    kw.setdefault("api_key", KEY)
    return AsyncB3nClient(base_url=base_url, **kw)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def li_user(*blocks: Any) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", blocks=list(blocks))]


PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
IMAGE_MESSAGE = [{"role": "user", "content": [{"type": "text", "text": "what is this?"},
                                              {"type": "image_url", "image_url": {"url": PNG}}]}]
NOT_A_SCHEMA = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "string"}}}
BAD_PROPERTIES = {"type": "function", "function": {"name": "lookup",
                                                   "parameters": {"type": "object", "properties": ["q"]}}}
BAD_REQUIRED = {"type": "function", "function": {"name": "lookup", "parameters": {
    "type": "object", "properties": {"q": {"type": "string"}}, "required": "q"}}}


def lc_image_to_text_model(url: str, tmp: Path) -> Any:
    from langchain_core.messages import HumanMessage

    message = HumanMessage(content=[{"type": "text", "text": "what is this?"},
                                    {"type": "image", "base64": PNG.split(",", 1)[1], "mime_type": "image/png"}])
    return chat_b3n(url, model="gpt-3.5-turbo").invoke([message])


def li_image_to_text_model(url: str, tmp: Path) -> Any:
    from llama_index.core.base.llms.types import ImageBlock, TextBlock

    return li_b3n(url, model="o1-mini").chat(li_user(TextBlock(text="what is this?"), ImageBlock(url=PNG)))


def lc_unknown_role(url: str, tmp: Path) -> Any:
    from langchain_core.messages import ChatMessage

    return chat_b3n(url).invoke([ChatMessage(role="wizard", content="hi")])


def lc_non_json_tool_args(url: str, tmp: Path) -> Any:
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    history = [
        HumanMessage("call lookup"),
        AIMessage("", tool_calls=[{"id": "c1", "name": "lookup", "args": {"when": object()}}]),
        ToolMessage("done", tool_call_id="c1"),
    ]
    return chat_b3n(url).invoke(history)


def core_non_json_tool_args(url: str, tmp: Path) -> Any:
    history = [
        {"role": "user", "content": "call lookup"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": {"when": {1, 2}}}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
    ]
    return client(url).chat.create("gpt-4o-mini", history)


def lc_tool_choice_unknown(url: str, tmp: Path) -> Any:
    return chat_b3n(url).bind_tools([NOT_A_SCHEMA | {"function": {"name": "lookup"}}], tool_choice="search")


def lc_structured_no_tools_model(url: str, tmp: Path) -> Any:
    return chat_b3n(url, model="o1-mini").with_structured_output({"title": "T", "type": "object",
                                                                  "properties": {"a": {"type": "string"}}})


def lc_tts_tool_too_long(url: str, tmp: Path) -> Any:
    from langchain_b3n import B3nTextToSpeech

    return B3nTextToSpeech(api_key=KEY, base_url=url, output_dir=str(tmp)).invoke({"text": "x" * 5000})


def oversized_audio_file(url: str, tmp: Path) -> Any:
    path = tmp / "big.mp3"
    with path.open("wb") as fh:
        fh.truncate(25 * MB + 1)  # sparse: no 25 MB written to disk
    return client(url).audio.transcribe(path)


def li_reader_wrong_extension(url: str, tmp: Path) -> Any:
    from llama_index_b3n import B3nAudioReader

    path = tmp / "notes.txt"
    path.write_text("not audio")
    return B3nAudioReader(api_key=KEY, api_base=url).load_data(path)


def lc_embeddings_ada_dimensions(url: str, tmp: Path) -> Any:
    from langchain_b3n import B3nEmbeddings

    return B3nEmbeddings(api_key=KEY, base_url=url, model="text-embedding-ada-002", dimensions=256)


def li_embedding_ada_dimensions(url: str, tmp: Path) -> Any:
    from llama_index_b3n import B3nEmbedding

    return B3nEmbedding("text-embedding-ada-002", api_key=KEY, api_base=url, dimensions=256)


def lc_embeddings_non_strings(url: str, tmp: Path) -> Any:
    from langchain_b3n import B3nEmbeddings

    return B3nEmbeddings(api_key=KEY, base_url=url).embed_documents(["fine", 42])  # type: ignore[list-item]


def lc_missing_key(url: str, tmp: Path) -> Any:
    return chat_b3n(url, api_key=None).invoke("hello")


def li_missing_key(url: str, tmp: Path) -> Any:
    return li_b3n(url, api_key=None).chat(li_user_text("hello"))


def li_user_text(text: str) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content=text)]


async def lc_embeddings_missing_key(url: str, tmp: Path) -> Any:
    from langchain_b3n import B3nEmbeddings

    return await B3nEmbeddings(base_url=url).aembed_documents(["hello"])


def lc_malformed_base_url(url: str, tmp: Path) -> Any:
    return chat_b3n("api.b3n.fun/v1").invoke("hello")


def li_malformed_base_url(url: str, tmp: Path) -> Any:
    return li_b3n("ftp://api.b3n.fun/v1")


def client_base_url_with_query(url: str, tmp: Path) -> Any:
    return client(url + "?key=sk-x")


def account_without_token(url: str, tmp: Path) -> Any:
    return client(url).account.whoami()


CASES = [
    # chat: messages
    Case("ChatB3n-empty-messages", lambda u, t: chat_b3n(u).invoke([]), e.B3nInvalidRequestError,
         "at least one message", langchain=True),
    Case("B3n-empty-messages", lambda u, t: li_b3n(u).chat([]), e.B3nInvalidRequestError, "at least one message"),
    Case("client-empty-messages", lambda u, t: client(u).chat.create("gpt-4o-mini", []), e.B3nInvalidRequestError,
         "at least one message"),
    Case("ChatB3n-unknown-role", lc_unknown_role, e.B3nInvalidRequestError, "role", langchain=True),
    Case("client-unknown-role", lambda u, t: client(u).chat.create("gpt-4o-mini", [{"role": "wizard", "content": "x"}]),
         e.B3nInvalidRequestError, "unknown role 'wizard'"),
    Case("client-tool-result-without-id",
         lambda u, t: client(u).chat.create("gpt-4o-mini", [*user("hi"), {"role": "tool", "content": "42"}]),
         e.B3nInvalidRequestError, "tool_call_id"),
    # chat: images
    Case("ChatB3n-image-to-text-only-model", lc_image_to_text_model, e.B3nInvalidRequestError,
         "does not take image inputs", langchain=True),
    Case("B3n-image-to-text-only-model", li_image_to_text_model, e.B3nInvalidRequestError,
         "does not take image inputs"),
    Case("client-image-to-text-only-model", lambda u, t: client(u).chat.create("gpt-4", IMAGE_MESSAGE),
         e.B3nInvalidRequestError, "vision model"),
    # chat: tools
    Case("ChatB3n-tool-schema-not-an-object",
         lambda u, t: chat_b3n(u).bind_tools([NOT_A_SCHEMA]).invoke("look it up"), e.B3nInvalidRequestError,
         "JSON schema object", langchain=True),
    Case("client-tool-properties-not-a-mapping",
         lambda u, t: client(u).chat.create("gpt-4o-mini", user("x"), tools=[BAD_PROPERTIES]),
         e.B3nInvalidRequestError, "properties"),
    Case("client-tool-required-not-a-list",
         lambda u, t: client(u).chat.create("gpt-4o-mini", user("x"), tools=[BAD_REQUIRED]),
         e.B3nInvalidRequestError, "required"),
    Case("client-tool-name-invalid",
         lambda u, t: client(u).chat.create("gpt-4o-mini", user("x"), tools=[
             {"type": "function", "function": {"name": "look up!", "parameters": {"type": "object"}}}]),
         e.B3nInvalidRequestError, "letters, digits"),
    Case("ChatB3n-non-json-tool-arguments", lc_non_json_tool_args, e.B3nInvalidRequestError, "JSON-serialisable",
         langchain=True),
    Case("client-non-json-tool-arguments", core_non_json_tool_args, e.B3nInvalidRequestError, "JSON-serialisable"),
    Case("ChatB3n-tool-choice-names-no-tool", lc_tool_choice_unknown, e.B3nInvalidRequestError, "names no bound tool",
         langchain=True),
    Case("client-tools-to-model-without-tools",
         lambda u, t: client(u).chat.create("o1-mini", user("x"), tools=[BAD_REQUIRED | {"function": {
             "name": "lookup", "parameters": {"type": "object"}}}]),
         e.B3nInvalidRequestError, "does not support tool calling"),
    Case("ChatB3n-structured-output-model-without-tools-or-json", lc_structured_no_tools_model,
         e.B3nInvalidRequestError, "cannot return structured output", langchain=True),
    # chat: parameters
    Case("client-n-2-claude", lambda u, t: client(u).chat.create("claude-3-5-sonnet-latest", user("x"), extra={"n": 2}),
         e.B3nInvalidRequestError, "one choice per request"),
    Case("client-n-0", lambda u, t: client(u).chat.create("gpt-4o-mini", user("x"), n=0),
         e.B3nInvalidRequestError, "n must be an integer from 1 to 128"),
    Case("client-negative-max-tokens", lambda u, t: client(u).chat.create("gpt-4o-mini", user("x"), max_tokens=-5),
         e.B3nInvalidRequestError, "max_tokens must be positive"),
    Case("client-max-tokens-not-a-number",
         lambda u, t: client(u).chat.create("gpt-4o-mini", user("x"), max_tokens="lots"),
         e.B3nInvalidRequestError, "max_tokens"),
    Case("ChatB3n-negative-temperature", lambda u, t: chat_b3n(u).invoke("hi", temperature=-1),
         e.B3nInvalidRequestError, "temperature", langchain=True),
    Case("client-temperature-not-a-number",
         lambda u, t: client(u).chat.create("gpt-4o-mini", user("x"), temperature="hot"),
         e.B3nInvalidRequestError, "temperature"),
    Case("B3n-non-json-extra-parameter", lambda u, t: li_b3n(u).chat(li_user_text("hi"), seed=object()),
         e.B3nInvalidRequestError, "JSON-serialisable"),
    Case("client-nan-in-extra-parameter",
         lambda u, t: client(u).chat.create("gpt-4o-mini", user("x"), extra={"top_p": float("nan")}),
         e.B3nInvalidRequestError, "JSON-serialisable"),
    # images
    Case("images-n-2-for-dall-e-3", lambda u, t: client(u).images.generate("a fox", n=2), e.B3nInvalidRequestError,
         "one image per call"),
    Case("images-bad-size", lambda u, t: client(u).images.generate("a fox", size="640x480"),
         e.B3nInvalidRequestError, "1024x1024"),
    Case("images-prompt-too-long", lambda u, t: aclient(u).images.generate("fox " * 1001), e.B3nInvalidRequestError,
         "at most 4000"),
    Case("images-empty-prompt", lambda u, t: client(u).images.generate("  "), e.B3nInvalidRequestError,
         "prompt is empty"),
    # embeddings
    Case("B3nEmbeddings-dimensions-for-ada-002", lc_embeddings_ada_dimensions, e.B3nInvalidRequestError,
         "does not accept `dimensions`", langchain=True),
    Case("B3nEmbedding-dimensions-for-ada-002", li_embedding_ada_dimensions, e.B3nInvalidRequestError,
         "does not accept `dimensions`"),
    Case("client-dimensions-too-large",
         lambda u, t: client(u).embeddings.create(["x"], model="text-embedding-3-small", dimensions=4096),
         e.B3nInvalidRequestError, "at most 1536"),
    Case("B3nEmbeddings-non-string-text", lc_embeddings_non_strings, e.B3nInvalidRequestError, "not str",
         langchain=True),
    Case("client-embed-a-bare-string", lambda u, t: client(u).embeddings.create("hello"), e.B3nInvalidRequestError,
         "list of strings"),
    # speech
    Case("speech-over-4096-chars", lambda u, t: client(u).audio.speech("x" * 4097), e.B3nInvalidRequestError,
         "at most 4096"),
    Case("speech-speed-out-of-range", lambda u, t: aclient(u).audio.speech("hi", speed=5.0),
         e.B3nInvalidRequestError, "0.25 to 4.0"),
    Case("speech-unknown-voice", lambda u, t: client(u).audio.speech("hi", voice="darth"), e.B3nInvalidRequestError,
         "alloy"),
    Case("B3nTextToSpeech-tool-over-4096-chars", lc_tts_tool_too_long, e.B3nInvalidRequestError, "4096",
         langchain=True),
    # transcription
    Case("transcribe-oversized-audio-file", oversized_audio_file, e.B3nInvalidRequestError, "at most 25 MB"),
    Case("transcribe-oversized-audio-bytes", lambda u, t: aclient(u).audio.transcribe(b"\0" * (25 * MB + 1)),
         e.B3nInvalidRequestError, "at most 25 MB"),
    Case("transcribe-text-mode-file", lambda u, t: client(u).audio.transcribe(io.StringIO("not bytes")),
         e.B3nInvalidRequestError, "'rb'"),
    Case("transcribe-bad-language", lambda u, t: client(u).audio.transcribe(b"ID3" + b"\0" * 64, language="english"),
         e.B3nInvalidRequestError, "ISO-639-1"),
    Case("B3nAudioReader-not-audio", li_reader_wrong_extension, e.B3nInvalidRequestError, "cannot be transcribed"),
    # configuration
    Case("ChatB3n-missing-key-at-call-time", lc_missing_key, e.B3nConfigurationError, "B3N_API_KEY", langchain=True),
    Case("B3n-missing-key-at-call-time", li_missing_key, e.B3nConfigurationError, "B3N_API_KEY"),
    Case("B3nEmbeddings-missing-key-at-call-time", lc_embeddings_missing_key, e.B3nConfigurationError,
         "B3N_API_KEY", langchain=True),
    Case("ChatB3n-malformed-base-url", lc_malformed_base_url, e.B3nConfigurationError, "absolute http(s) URL",
         langchain=True),
    Case("B3n-malformed-base-url", li_malformed_base_url, e.B3nConfigurationError, "absolute http(s) URL"),
    Case("client-base-url-with-query", client_base_url_with_query, e.B3nConfigurationError, "query string"),
    Case("client-negative-max-retries", lambda u, t: client(u, max_retries=-1), e.B3nConfigurationError,
         "max_retries"),
    Case("account-without-system-token", account_without_token, e.B3nConfigurationError, "system access token"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_refused_before_any_request(case: Case, emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(e.B3nError) as info:
        result = await asyncio.to_thread(case.call, emulator.base_url, tmp_path)
        if asyncio.iscoroutine(result):
            await result
    err = info.value
    assert isinstance(err, case.cls), type(err).__mro__
    assert isinstance(err, ValueError)  # both refusal classes are ValueErrors for generic code
    if case.langchain:
        assert isinstance(err, lc.ModelInvalidRequestError), type(err).__mro__
    assert case.says.lower() in err.message.lower(), err.message
    assert err.status_code is None  # nothing was answered: nothing was asked
    assert emulator.total_requests == 0, emulator.counts


def test_there_are_at_least_twenty_cases_across_the_public_classes() -> None:
    assert len(CASES) >= 20
    owners = {c.id.split("-", 1)[0] for c in CASES}
    assert {"ChatB3n", "B3n", "B3nEmbeddings", "B3nEmbedding", "client", "images", "speech", "transcribe"} <= owners
