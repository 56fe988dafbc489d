"""Credentials are sanitised and never echoed (issue 14, item 1).

A key read with ``open(f).read()`` ends in a newline; one pasted from a web page may carry a
non-breaking space or a non-ASCII look-alike. Surrounding whitespace is stripped (the relay then
sees the clean key); anything else that is not visible ASCII is refused at construction with a
``B3nConfigurationError`` whose text, and the text of every exception chained to it, never
contains the value. Checked through every public class, the environment variables, the ``b3n``
command's stderr and LangChain callbacks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from b3n import B3nClient, B3nConfig, B3nConfigurationError, resolve_config
from b3n.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-canary0123456789"
TOKEN = "tok-canary-0123"
#: values that can never go into a header: each must be refused without being repeated.
UNSENDABLE = {
    "non-ascii+newline": "sk-canary-é\n",
    "inner-space": "sk-can ary-01",
    "header-injection": "sk-canary\r\nX-Evil: 1",
    "nul": "sk-canary\x00",
    "look-alike": "sk-саnary",  # Cyrillic 'а'
}
#: values with only surrounding whitespace: stripped, then sent.
PADDED = {"trailing-newline": KEY + "\n", "spaces": f"  {KEY}  ", "crlf-and-nbsp": f"\u00a0{KEY}\r\n"}


#: pieces of the canaries above that must never show in any text (the test's own source lines may say "canary").
MARKERS = ("sk-canary", "sk-can ary", "tok-canary", "1canary", "v-canary", "X-canary", "саnary")


def _assert_no_marker(text: str) -> None:
    leaked = [marker for marker in MARKERS if marker in text]
    assert not leaked, f"{leaked} in:\n{text}"


def _text_of_chain(exc: BaseException) -> str:
    """Every text a trace could show: messages, reprs and the formatted chain (__cause__ and __context__)."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen), repr(getattr(seen, "args", ()))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def _assert_refused_quietly(build: Callable[[], Any]) -> None:
    with pytest.raises(B3nConfigurationError) as info:
        build()
    _assert_no_marker(_text_of_chain(info.value))
    assert "cannot be sent in an HTTP header" in str(info.value)


def _constructors(base_url: str) -> dict[str, Callable[[str], Any]]:
    import langchain_b3n as lc
    import llama_index_b3n as li

    return {
        "resolve_config": lambda key: resolve_config(api_key=key, base_url=base_url),
        "B3nConfig": lambda key: B3nConfig(api_key=key, base_url=base_url),  # type: ignore[arg-type]
        "B3nClient": lambda key: B3nClient(api_key=key, base_url=base_url),
        "AsyncB3nClient": lambda key: lc.AsyncB3nClient(api_key=key, base_url=base_url),
        "ChatB3n": lambda key: lc.ChatB3n(api_key=key, base_url=base_url),
        "B3nEmbeddings": lambda key: lc.B3nEmbeddings(api_key=key, base_url=base_url),
        "B3nImageGeneration": lambda key: lc.B3nImageGeneration(api_key=key, base_url=base_url),
        "B3nTextToSpeech": lambda key: lc.B3nTextToSpeech(api_key=key, base_url=base_url),
        "B3nSpeechToText": lambda key: lc.B3nSpeechToText(api_key=key, base_url=base_url),
        "B3nWhisperParser": lambda key: lc.B3nWhisperParser(api_key=key, base_url=base_url),
        "B3nAudioLoader": lambda key: lc.B3nAudioLoader("a.mp3", api_key=key, base_url=base_url),
        "B3n": lambda key: li.B3n(api_key=key, api_base=base_url),
        "B3nEmbedding": lambda key: li.B3nEmbedding(api_key=key, api_base=base_url),
        "B3nToolSpec": lambda key: li.B3nToolSpec(api_key=key, api_base=base_url),
        "B3nAudioReader": lambda key: li.B3nAudioReader(api_key=key, api_base=base_url),
    }


CLASSES = list(_constructors("http://127.0.0.1:9/v1"))


@pytest.fixture(scope="module")
def strict() -> Iterator[Emulator]:
    """An emulator that only accepts the clean key and token."""
    with Emulator(api_key=KEY, access_token=TOKEN, user_id=7) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _no_b3n_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("B3N_API_KEY", "B3N_BASE_URL", "B3N_ACCESS_TOKEN", "B3N_USER_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("canary", list(UNSENDABLE.values()), ids=list(UNSENDABLE))
def test_an_unsendable_key_is_refused_by_every_class_without_echoing_it(cls: str, canary: str) -> None:
    _assert_refused_quietly(lambda: _constructors("http://127.0.0.1:9/v1")[cls](canary))


@pytest.mark.parametrize("cls", [c for c in CLASSES if c != "B3nConfig"])  # B3nConfig reads no environment
def test_an_unsendable_key_from_the_environment_is_refused_without_echoing_it(
    cls: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("B3N_API_KEY", UNSENDABLE["non-ascii+newline"])
    _assert_refused_quietly(lambda: _constructors("http://127.0.0.1:9/v1")[cls](None))  # type: ignore[arg-type]


@pytest.mark.parametrize("canary", list(UNSENDABLE.values()), ids=list(UNSENDABLE))
def test_access_token_user_id_and_header_values_are_refused_without_echo(canary: str) -> None:
    _assert_refused_quietly(lambda: B3nClient(access_token=canary.replace("sk-", "tok-")))
    _assert_refused_quietly(lambda: B3nClient(access_token=TOKEN, user_id=canary.replace("sk-", "1")))
    if " " not in canary:  # a header value may hold inner spaces
        value = canary.replace("sk-", "v-")
        _assert_refused_quietly(lambda: B3nClient(default_headers={"X-Team": value}))


HEADER_NAME = "X-canary é"


def test_a_header_name_that_is_not_a_token_is_refused_without_echo() -> None:
    _assert_refused_quietly(lambda: B3nClient(default_headers={HEADER_NAME: "1"}))


@pytest.mark.parametrize("padded", list(PADDED.values()), ids=list(PADDED))
def test_surrounding_whitespace_is_stripped_and_the_clean_key_is_sent(strict: Emulator, padded: str) -> None:
    from llama_index.core.llms import ChatMessage

    import langchain_b3n as lc
    import llama_index_b3n as li

    strict.reset()
    url = strict.base_url
    assert lc.ChatB3n(api_key=padded, base_url=url).invoke("say 1").content == "1"
    assert len(lc.B3nEmbeddings(api_key=padded, base_url=url).embed_query("x")) > 0
    assert li.B3n(api_key=padded, api_base=url).chat([ChatMessage(role="user", content="say 2")]).message.content == "2"
    assert len(li.B3nEmbedding(api_key=padded, api_base=url).get_text_embedding("x")) > 0
    assert lc.B3nImageGeneration(api_key=padded, base_url=url).invoke({"prompt": "a cat"}).startswith("http")
    client = B3nClient(api_key=padded, base_url=url, access_token=f" {TOKEN}\n", user_id=" 7\n")
    assert client.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 3"}]).content == "3"
    assert client.account.whoami().id == 7
    assert strict.last_request("chat").headers["authorization"] == f"Bearer {KEY}"
    assert strict.count("chat") == 3 and strict.count("embeddings") == 2 and strict.count("images") == 1


def test_a_padded_key_in_the_environment_works(strict: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    import langchain_b3n as lc

    monkeypatch.setenv("B3N_API_KEY", f"{KEY}\n")
    strict.reset()
    assert lc.ChatB3n(base_url=strict.base_url).invoke("say 4").content == "4"
    assert strict.last_request("chat").headers["authorization"] == f"Bearer {KEY}"


def test_a_key_set_after_construction_fails_the_call_before_sending_and_callbacks_see_no_value(
    strict: Emulator,
) -> None:
    from langchain_core.callbacks import BaseCallbackHandler
    from pydantic import SecretStr

    import langchain_b3n as lc

    seen: list[str] = []

    class Recorder(BaseCallbackHandler):
        def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
            seen.append(_text_of_chain(error))

        def on_chain_error(self, error: BaseException, **kwargs: Any) -> None:
            seen.append(_text_of_chain(error))

    strict.reset()
    llm = lc.ChatB3n(api_key=KEY, base_url=strict.base_url)
    llm.api_key = SecretStr(UNSENDABLE["non-ascii+newline"])
    with pytest.raises(B3nConfigurationError) as info:
        llm.invoke("say 1", config={"callbacks": [Recorder()]})
    assert seen, "the callback saw no error"
    for text in [*seen, _text_of_chain(info.value)]:
        _assert_no_marker(text)
    assert strict.count("chat") == 0


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("B3N_")}
    return subprocess.run([sys.executable, "-m", "b3n.cli", *args], env={**clean, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_cli_refuses_an_unsendable_key_without_printing_it(strict: Emulator) -> None:
    from_env = _cli(["models"], {"B3N_API_KEY": UNSENDABLE["non-ascii+newline"], "B3N_BASE_URL": strict.base_url})
    from_arg = _cli(["models", "--api-key", UNSENDABLE["header-injection"], "--base-url", strict.base_url], {})
    for done in (from_env, from_arg):
        assert done.returncode != 0
        _assert_no_marker(done.stdout + done.stderr)
        assert "The API key (--api-key / B3N_API_KEY) contains" in done.stderr, done.stderr
    padded = _cli(["models", "--json"], {"B3N_API_KEY": f"{KEY}\n", "B3N_BASE_URL": strict.base_url})
    assert padded.returncode == 0, padded.stderr
    assert "gpt-4o-mini" in padded.stdout
