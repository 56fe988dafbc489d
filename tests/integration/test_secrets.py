"""The API key and the system access token never leak.

Every public class (``langchain_b3n.__all__`` and ``llama_index_b3n.__all__``, plus the core
clients and ``B3nConfig``) is built with a recognisable fake key and token, makes real calls
against an emulator that *requires* that key and token, and is then checked: ``repr``/``str``,
pickles (and what unpickles from them), LangChain ``dumpd``/``dumps``, LlamaIndex
``to_dict``/``to_json``/``to_payload``, pydantic dumps, every log record at DEBUG (our ``b3n``
logger, httpx and httpcore included: httpcore logs request objects without headers, and response
headers only), LangChain callbacks and LlamaIndex instrumentation events, and the messages and
formatted tracebacks of errors raised along the way. Sending a credential over plain http to a
non-loopback host warns, and a redirect to another origin never carries the credential.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import http.server
import inspect
import json
import logging
import pickle
import socket
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from b3n import _errors as e
from b3n.testing import Emulator
from langchain_b3n import (
    B3nAudioLoader,
    B3nEmbeddings,
    B3nImageGeneration,
    B3nSpeechToText,
    B3nTextToSpeech,
    B3nWhisperParser,
    ChatB3n,
)
from llama_index_b3n import B3n, B3nAudioReader, B3nEmbedding, B3nToolSpec

CANARY = "LEAKCANARY"
FAKE_KEY = f"sk-{CANARY}key0123456789abcdefghijklmnopqrstuvwxyzABCD"
FAKE_TOKEN = f"{CANARY}token-0123456789abcdef"
WRONG_KEY = f"sk-{CANARY}wrong0123456789abcdefghijklmnopqrstuvwxyz"
SECRETS = (FAKE_KEY, FAKE_TOKEN, WRONG_KEY, CANARY, FAKE_KEY[3:20], FAKE_TOKEN[:20])
USER_ID = 7


def assert_clean(value: Any, where: str) -> None:
    """No credential (nor a recognisable piece of one) in ``value``'s text or bytes."""
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
    for secret in SECRETS:
        assert secret.encode() not in data, f"credential leaked in {where}: ...{secret[:12]}..."


@pytest.fixture(scope="module")
def secure() -> Iterator[Emulator]:
    """An emulator that only accepts the fake key (on /v1) and the fake system token (account)."""
    with Emulator(api_key=FAKE_KEY, access_token=FAKE_TOKEN, user_id=USER_ID) as emu:
        yield emu


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Classes without an access_token argument still hold the token (from the environment)."""
    monkeypatch.setenv("B3N_ACCESS_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("B3N_USER_ID", str(USER_ID))


# ---------------------------------------------------------------------------------------------- the classes


def _speech_file(url: str, tmp: Path) -> Path:
    from b3n import B3nClient

    path = tmp / "hello.mp3"
    if not path.exists():
        path.write_bytes(B3nClient(api_key=FAKE_KEY, base_url=url).audio.speech("Hello from the canary test."))
    return path


@dataclass(frozen=True)
class Public:
    """How to build one public class with the fake credentials, and real calls that use them."""

    make: Callable[[str, Path], Any]
    exercise: Callable[[Any, str, Path], Any]
    #: resolves its configuration at the first call rather than at construction
    lazy: bool = False


def _lc_chat(o: Any, url: str, tmp: Path) -> None:
    assert o.invoke("say 1").content == "1"
    assert "".join(str(c.content) for c in o.stream("say 2")) == "2"

    async def both() -> None:
        assert (await o.ainvoke("say 3")).content == "3"
        assert "".join([str(c.content) async for c in o.astream("say 4")]) == "4"

    asyncio.run(both())


def _li_chat(o: Any, url: str, tmp: Path) -> None:
    from llama_index.core.llms import ChatMessage

    assert o.complete("say 1").text == "1"
    assert o.chat([ChatMessage(role="user", content="say 2")]).message.content == "2"

    async def both() -> None:
        assert (await o.acomplete("say 3")).text == "3"
        last = None
        async for r in await o.astream_chat([ChatMessage(role="user", content="say 4")]):
            last = r
        assert last is not None and last.message.content == "4"

    asyncio.run(both())


def _lc_embeddings(o: Any, url: str, tmp: Path) -> None:
    assert len(o.embed_documents(["a", "b"])) == 2
    assert len(asyncio.run(o.aembed_query("c"))) > 0


def _li_embedding(o: Any, url: str, tmp: Path) -> None:
    assert len(o.get_text_embedding_batch(["a", "b"])) == 2
    assert len(asyncio.run(o.aget_query_embedding("c"))) > 0


def _client(o: Any, url: str, tmp: Path) -> None:
    assert o.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}]).content == "1"
    assert o.embeddings.create(["a"])
    assert o.images.generate("a fox").images[0].url
    audio = o.audio.speech("Hello there.")
    assert o.audio.transcribe(audio).text == "Hello there."
    assert o.models.list()
    account = o.account.whoami()
    assert account.id == USER_ID
    assert_clean(repr(account), "AccountInfo repr")
    assert_clean(account.model_dump_json(), "AccountInfo JSON")


def _aclient(o: Any, url: str, tmp: Path) -> None:
    async def run() -> None:
        assert (await o.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}])).content == "1"
        assert [c async for c in o.chat.stream("gpt-4o-mini", [{"role": "user", "content": "say 2"}])]
        assert await o.embeddings.create(["a"])
        assert (await o.account.whoami()).id == USER_ID
        assert b"".join([c async for c in o.audio.iter_speech("Hi.")])

    asyncio.run(run())


def _public() -> dict[str, Public]:
    from langchain_core.documents.base import Blob

    from b3n import AsyncB3nClient, B3nClient
    from b3n._config import resolve_config

    lc = {"api_key": FAKE_KEY}
    return {
        "ChatB3n": Public(lambda u, t: ChatB3n(model="gpt-4o-mini", base_url=u, **lc), _lc_chat, lazy=True),
        "B3nEmbeddings": Public(lambda u, t: B3nEmbeddings(base_url=u, **lc), _lc_embeddings),
        "B3nImageGeneration": Public(
            lambda u, t: B3nImageGeneration(base_url=u, **lc),
            lambda o, u, t: o.invoke({"prompt": "a fox"}) and asyncio.run(o.ainvoke({"prompt": "a cat"}))),
        "B3nTextToSpeech": Public(
            lambda u, t: B3nTextToSpeech(base_url=u, output_dir=str(t), **lc),
            lambda o, u, t: Path(o.invoke({"text": "Hello."})).stat().st_size > 0),
        "B3nSpeechToText": Public(
            lambda u, t: B3nSpeechToText(base_url=u, root_dir=str(t), **lc),
            lambda o, u, t: o.invoke({"file_path": str(_speech_file(u, t))})),
        "B3nWhisperParser": Public(
            lambda u, t: B3nWhisperParser(base_url=u, **lc),
            lambda o, u, t: o.parse(Blob.from_path(_speech_file(u, t)))),
        "B3nAudioLoader": Public(
            lambda u, t: B3nAudioLoader(str(_speech_file(u, t)), base_url=u, **lc),
            lambda o, u, t: o.load() and asyncio.run(o.aload())),
        "B3nClient": Public(
            lambda u, t: B3nClient(base_url=u, access_token=FAKE_TOKEN, user_id=USER_ID, **lc), _client),
        "AsyncB3nClient": Public(
            lambda u, t: AsyncB3nClient(base_url=u, access_token=FAKE_TOKEN, user_id=USER_ID, **lc), _aclient),
        "B3n": Public(lambda u, t: B3n(model="gpt-4o-mini", api_base=u, **lc), _li_chat, lazy=True),
        "B3nEmbedding": Public(lambda u, t: B3nEmbedding(api_base=u, **lc), _li_embedding),
        "B3nToolSpec": Public(
            lambda u, t: B3nToolSpec(api_base=u, output_dir=t, root_dir=t, **lc),
            lambda o, u, t: o.generate_image("a fox") and o.transcribe_audio(str(_speech_file(u, t)))),
        "B3nAudioReader": Public(
            lambda u, t: B3nAudioReader(api_base=u, **lc),
            lambda o, u, t: o.load_data(_speech_file(u, t)) and asyncio.run(o.aload_data(_speech_file(u, t)))),
        "B3nConfig": Public(
            lambda u, t: resolve_config(base_url=u, access_token=FAKE_TOKEN, user_id=USER_ID, **lc),
            lambda o, u, t: B3nClient(config=o).account.whoami()),
    }


PUBLIC_NAMES = [
    "ChatB3n", "B3nEmbeddings", "B3nImageGeneration", "B3nTextToSpeech", "B3nSpeechToText", "B3nWhisperParser",
    "B3nAudioLoader", "B3nClient", "AsyncB3nClient", "B3n", "B3nEmbedding", "B3nToolSpec", "B3nAudioReader",
    "B3nConfig",
]


#: exported classes that never hold a credential (no key, no token, no client).
CREDENTIAL_FREE = frozenset({"Emulator", "B3nTokenizer", "B3nCostCallbackHandler", "B3nCostHandler"})


def test_the_sweep_covers_every_public_class() -> None:
    import langchain_b3n
    import llama_index_b3n
    from b3n._exports import RETURNED_TYPE_NAMES  # results handed back (no settings, no credentials)

    exported = set()
    for module in (langchain_b3n, llama_index_b3n):
        for name in module.__all__:
            value = getattr(module, name)
            if (inspect.isclass(value) and not issubclass(value, BaseException) and name not in CREDENTIAL_FREE
                    and name not in RETURNED_TYPE_NAMES):
                exported.add(name)
    assert exported | {"B3nConfig"} == set(PUBLIC_NAMES) == set(_public())


# ---------------------------------------------------------------------------------------------- the sweep


def _views(obj: Any) -> Iterator[tuple[str, Any]]:
    """Every serialised or printed form of ``obj`` a user, a tracer or a cache might produce."""
    from langchain_core.load import dumpd, dumps

    yield "repr", repr(obj)
    yield "str", str(obj)
    yield "format", f"{obj!s:>10}"
    yield "dumps", dumps(obj)
    yield "dumpd", json.dumps(dumpd(obj), default=repr)
    for method in ("to_dict", "to_json", "to_payload", "model_dump", "dict"):
        fn = getattr(obj, method, None)
        if callable(fn):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                yield method, fn()
    if hasattr(obj, "model_dump_json") and not inspect.isclass(getattr(obj, "args_schema", None)):
        yield "model_dump_json", obj.model_dump_json()
    if hasattr(obj, "__dict__"):
        yield "repr(vars)", {k: repr(v) for k, v in vars(obj).items() if k != "__pydantic_private__"}
    try:
        pickled = pickle.dumps(obj)
    except (TypeError, pickle.PicklingError, AttributeError):
        return  # not picklable: nothing written anywhere
    yield "pickle", pickled
    yield "repr(unpickled)", repr(pickle.loads(pickled))
    yield "repr(deepcopy)", repr(copy.deepcopy(obj))


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_no_credential_in_any_view_or_log_after_real_calls(
    name: str, secure: Emulator, token_env: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    public = _public()[name]
    url = secure.base_url
    _speech_file(url, tmp_path)
    caplog.set_level(logging.DEBUG)  # root: b3n, httpx, httpcore, langchain, llama_index ...
    obj = public.make(url, tmp_path)
    public.exercise(obj, url, tmp_path)
    assert secure.total_requests > 0
    bad_auth = [r for r in secure.requests if r.status in (401, 403)]
    assert not bad_auth, "the credentials were not sent where they belong"
    for view, value in _views(obj):
        assert_clean(value, f"{name} {view}")
    records = caplog.records
    assert any(r.name.startswith("httpcore") for r in records), "httpcore DEBUG logging was not captured"
    assert any(r.name == "b3n" for r in records)
    for record in records:
        assert_clean(record.getMessage(), f"log record {record.name}")
        assert_clean(repr(record.args), f"log record args {record.name}")


def test_unpickled_objects_reread_credentials_from_the_environment(
    secure: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pickle carries no key; loaded where B3N_API_KEY is set, the object works again."""
    from langchain_b3n import ChatB3n

    llm = ChatB3n(model="gpt-4o-mini", api_key=FAKE_KEY, base_url=secure.base_url)
    assert llm.invoke("say 1").content == "1"
    data = pickle.dumps(llm)
    assert_clean(data, "ChatB3n pickle")
    monkeypatch.setenv("B3N_API_KEY", FAKE_KEY)
    assert pickle.loads(data).invoke("say 2").content == "2"


# ---------------------------------------------------------------------------------------------- errors


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def _failures(url: str) -> list[tuple[str, Callable[[], Any]]]:
    from llama_index.core.llms import ChatMessage

    from b3n import AsyncB3nClient, B3nClient
    from langchain_b3n import B3nEmbeddings, ChatB3n
    from llama_index_b3n import B3n

    msg = [ChatMessage(role="user", content="hi")]
    return [
        ("401 wrong key (ChatB3n)", lambda: ChatB3n(api_key=WRONG_KEY, base_url=url).invoke("hi")),
        ("401 wrong token (account)", lambda: B3nClient(api_key=FAKE_KEY, base_url=url, access_token=WRONG_KEY,
                                                         user_id=USER_ID).account.whoami()),
        ("key sent to the account endpoint", lambda: B3nClient(api_key=FAKE_KEY, base_url=url,
                                                                access_token=FAKE_KEY).account.whoami()),
        ("connection refused (B3n)", lambda: B3n(api_key=FAKE_KEY, api_base=_closed_port_url(), max_retries=0)
         .chat(msg)),
        ("429 exhausted (embeddings)", lambda: B3nEmbeddings(api_key=FAKE_KEY, base_url=url, max_retries=0)
         .embed_documents(["a"])),
        ("stream cut (ChatB3n)", lambda: list(ChatB3n(api_key=FAKE_KEY, base_url=url).stream("Tell me a story"))),
        ("timeout (async client)", lambda: asyncio.run(AsyncB3nClient(
            api_key=FAKE_KEY, base_url=url, timeout=0.2, max_retries=0).chat.create("gpt-4o-mini", [
                {"role": "user", "content": "hi"}]))),
        ("bad input (client)", lambda: B3nClient(api_key=FAKE_KEY, base_url=url).audio.speech("x" * 5000)),
        ("missing key", lambda: ChatB3n(base_url=url).invoke("hi")),
    ]


FAULT_BEFORE = {
    "429 exhausted (embeddings)": ("rate_limit", "embeddings", {"retry_after": 0}),
    "stream cut (ChatB3n)": ("stream_cut", "chat", {"after": 3}),
    "timeout (async client)": ("slow_first_byte", "chat", {"delay": 5}),
}


@pytest.mark.parametrize("case", [name for name, _ in _failures("http://127.0.0.1:1/v1")])
def test_no_credential_in_errors_or_tracebacks(case: str, secure: Emulator) -> None:
    secure.reset()
    if case in FAULT_BEFORE:
        kind, route, params = FAULT_BEFORE[case]
        secure.inject(kind, route=route, **params)
    call = dict(_failures(secure.base_url))[case]
    with pytest.raises(e.B3nError) as info:
        call()
    err = info.value
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    assert_clean(text, f"traceback of {case}")
    assert_clean(str(err), case)
    assert_clean(repr(err), case)
    assert_clean(repr(vars(err)), f"attributes of {case}")
    assert_clean(pickle.dumps(err), f"pickled {case}")
    assert err.message  # and it says what to do, without the secret


# ---------------------------------------------------------------------------------------------- tracing


def test_no_credential_reaches_langchain_callbacks_or_stream_events(secure: Emulator) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    from langchain_b3n import B3nEmbeddings, ChatB3n

    seen: list[Any] = []

    class Recorder(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            seen.append(("start", serialized, kwargs))

        def on_llm_end(self, response: Any, **kwargs: Any) -> None:
            seen.append(("end", response, kwargs))

    llm = ChatB3n(model="gpt-4o-mini", api_key=FAKE_KEY, base_url=secure.base_url)
    llm.invoke("say 1", config={"callbacks": [Recorder()], "metadata": {"run": "canary"}})
    assert seen and seen[0][0] == "start"
    assert_clean(repr(seen), "LangChain callback payloads")

    async def events() -> list[Any]:
        return [ev async for ev in llm.astream_events("say 2", version="v2")]

    collected = asyncio.run(events())
    assert any(ev["event"] == "on_chat_model_end" for ev in collected)
    assert_clean(repr(collected), "astream_events")
    assert_clean(repr(llm.bind_tools([{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {}}}}])), "bound runnable")
    assert_clean(repr(B3nEmbeddings(api_key=FAKE_KEY, base_url=secure.base_url)), "embeddings")


def test_no_credential_reaches_llama_index_instrumentation(secure: Emulator) -> None:
    from llama_index.core.instrumentation import get_dispatcher
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler
    from llama_index.core.instrumentation.events import BaseEvent
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n, B3nEmbedding

    events: list[BaseEvent] = []

    class Recorder(BaseEventHandler):
        @classmethod
        def class_name(cls) -> str:
            return "CanaryRecorder"

        def handle(self, event: BaseEvent, **kwargs: Any) -> None:
            events.append(event)

    root = get_dispatcher()
    recorder = Recorder()
    root.add_event_handler(recorder)
    try:
        B3n(model="gpt-4o-mini", api_key=FAKE_KEY, api_base=secure.base_url).chat(
            [ChatMessage(role="user", content="say 1")])
        B3nEmbedding(api_key=FAKE_KEY, api_base=secure.base_url).get_text_embedding_batch(["a"])
    finally:
        root.event_handlers.remove(recorder)
    assert len(events) >= 4
    for event in events:
        assert_clean(event.model_dump_json(), f"LlamaIndex event {type(event).__name__}")
        assert_clean(repr(event.dict()), f"LlamaIndex event {type(event).__name__}")


# ---------------------------------------------------------------------------------------------- plain http


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_plain_http_to_a_remote_host_warns(name: str, token_env: None, tmp_path: Path) -> None:
    public = _public()[name]
    remote = "http://192.0.2.10/v1"  # TEST-NET-1: never routed, and no DNS needed
    with pytest.warns(UserWarning, match="plain http") as record:
        obj = _make_offline(public, remote, tmp_path)
        if public.lazy:
            with contextlib.suppress(e.B3nError):
                _first_call_fast(obj)
    for w in record:
        assert_clean(str(w.message), "insecure-transport warning")


def _make_offline(public: Public, url: str, tmp: Path) -> Any:
    """Build without touching the network (the loader's audio file is a local placeholder)."""
    (tmp / "hello.mp3").write_bytes(b"ID3" + b"\0" * 64)
    return public.make(url, tmp)


def _first_call_fast(obj: Any) -> None:
    """The first call of a lazily-configured class, with a timeout short enough not to matter."""
    obj.timeout = 0.2
    obj.max_retries = 0
    if hasattr(obj, "invoke"):
        obj.invoke("hi")
    else:
        obj.complete("hi")


@pytest.mark.parametrize("url", ["https://relay.example.com/v1", "http://127.0.0.1:9/v1", "http://localhost:9/v1"])
def test_https_or_loopback_does_not_warn(url: str, token_env: None, tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for public in _public().values():
            _make_offline(public, url, tmp_path)
    assert not [w for w in record if "plain http" in str(w.message)]


# ---------------------------------------------------------------------------------------------- redirects


class _Recorder(http.server.BaseHTTPRequestHandler):
    """The redirect target: records request headers, answers like a relay would."""

    seen: list[dict[str, str]]
    redirect_to: str | None = None  # set on the redirecting server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.redirect_to is not None:
            self.send_response(307)
            self.send_header("Location", self.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path.endswith("/hop"):  # same-origin redirect: the control case
            self.send_response(307)
            self.send_header("Location", self.path[: -len("/hop")] + "/chat/completions")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"id": "chatcmpl-x", "object": "chat.completion", "model": "gpt-4o-mini", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "redirected"}, "finish_reason": "stop"}]})
        if self.path.startswith("/api/"):
            body = json.dumps({"success": True, "message": "", "data": {"id": USER_ID, "quota": 1, "used_quota": 0}})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _reply


def _serve(host: str, seen: list[dict[str, str]], redirect_to: str | None = None) -> tuple[Any, int]:
    handler = type("Handler", (_Recorder,), {"seen": seen, "redirect_to": redirect_to})
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, server.server_address[1]


def _loopback_hosts() -> list[str]:
    hosts = ["localhost"]
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        hosts.append("127.0.0.2")
    except OSError:
        pass
    return hosts


@pytest.mark.parametrize("target_host", _loopback_hosts())
def test_redirect_to_another_origin_never_carries_the_credentials(target_host: str) -> None:
    from b3n import AsyncB3nClient, B3nClient, B3nCrossOriginRedirectError
    from langchain_b3n import ChatB3n

    seen: list[dict[str, str]] = []
    target, target_port = _serve(target_host, seen)
    redirector, port = _serve("127.0.0.1", [], redirect_to=f"http://{target_host}:{target_port}")
    try:
        base = f"http://127.0.0.1:{port}/v1"
        kw: dict[str, Any] = {"api_key": FAKE_KEY, "base_url": base, "access_token": FAKE_TOKEN, "user_id": USER_ID}
        msgs = [{"role": "user", "content": "hi"}]
        # a cross-origin redirect is refused outright (b3n.B3nCrossOriginRedirectError): nothing reaches the target
        calls = [
            lambda: B3nClient(**kw).chat.create("gpt-4o-mini", msgs),
            lambda: asyncio.run(AsyncB3nClient(**kw).chat.create("gpt-4o-mini", msgs)),
            lambda: B3nClient(**kw).account.whoami(),
            lambda: ChatB3n(api_key=FAKE_KEY, base_url=base).invoke("hi"),
        ]
        for call in calls:
            with pytest.raises(B3nCrossOriginRedirectError) as info:
                call()
            assert_clean(str(info.value), "the redirect error")
        assert seen == []
        # control: a redirect within the same origin keeps the credential (so the check above is not vacuous)
        seen.clear()
        same = f"http://{target_host}:{target_port}/v1"
        client = B3nClient(api_key=FAKE_KEY, base_url=same)
        response = client.transport.request("POST", "/hop", json_body={"model": "gpt-4o-mini", "messages": msgs})
        assert response.status_code == 200
        assert [h.get("authorization") for h in seen] == [f"Bearer {FAKE_KEY}"] * 2
    finally:
        for server in (target, redirector):
            server.shutdown()
            server.server_close()


# ------------------------------------------------------------- issue 14 item 6: settings that are secrets too
#
# Gateway tokens travel in default_headers, proxies carry user:password, and the user id names the account:
# none of them may show in a repr or a serialised view. The canaries carry whitespace (stripped, then
# kept) and non-ASCII characters (a proxy password may be any UTF-8).

HEADER_CANARY = " gw-CANARYHDR-0123 \n"
PROXY_CANARY = "http://proxyuser:pässCANARYPROXY@127.0.0.1:3128"
USER_CANARY = " uid-CANARYUID\n"
SETTING_SECRETS = ("CANARYHDR", "CANARYPROXY", "pässCANARY", "proxyuser", "CANARYUID", "CANARYKEY")
SETTINGS_KEY = "sk-CANARYKEY0123"


def _assert_settings_clean(value: Any, where: str) -> None:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
    for secret in SETTING_SECRETS:
        assert secret.encode() not in data, f"{secret!r} leaked in {where}"


def _settings_objects() -> dict[str, Any]:
    from b3n import AsyncB3nClient, B3nClient, B3nConfig

    common = {"api_key": SETTINGS_KEY, "default_headers": {"X-Gateway": HEADER_CANARY}, "proxy": PROXY_CANARY}
    lc = {**common, "base_url": "https://relay.example/v1"}
    li = {**common, "api_base": "https://relay.example/v1"}
    core = {**lc, "access_token": "tok-CANARYKEY", "user_id": USER_CANARY}
    return {
        "ChatB3n": ChatB3n(**lc), "B3nEmbeddings": B3nEmbeddings(**lc), "B3nImageGeneration": B3nImageGeneration(**lc),
        "B3nTextToSpeech": B3nTextToSpeech(**lc), "B3nSpeechToText": B3nSpeechToText(**lc),
        "B3nWhisperParser": B3nWhisperParser(**lc), "B3nAudioLoader": B3nAudioLoader("a.mp3", **lc),
        "B3n": B3n(**li), "B3nEmbedding": B3nEmbedding(**li), "B3nToolSpec": B3nToolSpec(**li),
        "B3nAudioReader": B3nAudioReader(**li), "B3nClient": B3nClient(**core), "AsyncB3nClient": AsyncB3nClient(**core),
        "B3nConfig": B3nConfig(**{**core, "default_headers": tuple(common["default_headers"].items())}),
    }


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_headers_proxy_credentials_and_user_id_never_show_in_a_view(name: str) -> None:
    obj = _settings_objects()[name]
    for view, value in _views(obj):
        if view in ("repr(vars)", "pickle"):
            continue  # the live fields themselves, which the object needs to work
        _assert_settings_clean(value, f"{name} {view}")


def test_the_canary_settings_are_really_in_use() -> None:
    """The views above are clean because they redact, not because the settings were dropped."""
    objects = _settings_objects()
    for name in ("ChatB3n", "B3nEmbeddings", "B3n", "B3nToolSpec", "B3nWhisperParser"):
        config = objects[name].client.config
        assert dict(config.default_headers) == {"X-Gateway": HEADER_CANARY.strip()}, name
        assert config.proxy == PROXY_CANARY, name
    assert objects["B3nClient"].config.user_id == USER_CANARY.strip()


def test_repr_of_b3n_config_shows_names_and_hosts_only() -> None:
    from b3n import resolve_config

    shown = repr(resolve_config(api_key=SETTINGS_KEY, base_url="https://relay.example/v1", user_id=USER_CANARY,
                                default_headers={"X-Gateway": HEADER_CANARY}, proxy=PROXY_CANARY))
    _assert_settings_clean(shown, "repr(B3nConfig)")
    assert "'X-Gateway': '***'" in shown and "http://***@127.0.0.1:3128" in shown and "user_id='***'" in shown


@pytest.mark.parametrize("where", ["resolve_config", "B3nClient", "ChatB3n", "B3nEmbeddings", "B3n", "B3nToolSpec"])
def test_userinfo_in_base_url_is_refused_without_echo(where: str) -> None:
    from b3n import B3nClient, resolve_config
    from langchain_b3n import B3nEmbeddings, ChatB3n
    from llama_index_b3n import B3n, B3nToolSpec

    url = "https://user:CANARYKEY@relay.example/v1"
    build = {
        "resolve_config": lambda: resolve_config(base_url=url), "B3nClient": lambda: B3nClient(base_url=url),
        "ChatB3n": lambda: ChatB3n(base_url=url), "B3nEmbeddings": lambda: B3nEmbeddings(base_url=url),
        "B3n": lambda: B3n(api_base=url), "B3nToolSpec": lambda: B3nToolSpec(api_base=url),
    }[where]
    with pytest.raises(e.B3nConfigurationError, match="user:password@ part") as info:
        build()
    _assert_settings_clean("".join(traceback.format_exception(info.value)), where)


def test_openai_api_key_is_an_alias_of_api_key_and_never_a_request_field(secure: Emulator) -> None:
    from llama_index.core.llms import ChatMessage

    from langchain_b3n import B3nEmbeddings, ChatB3n
    from llama_index_b3n import B3n, B3nEmbedding

    secure.reset()
    url = secure.base_url
    llm = ChatB3n(openai_api_key=FAKE_KEY, base_url=url)
    assert llm.model_kwargs == {} and llm.invoke("say 1").content == "1"
    assert B3nEmbeddings(openai_api_key=FAKE_KEY, base_url=url).embed_query("x")
    assert B3n(openai_api_key=FAKE_KEY, api_base=url).chat([ChatMessage(role="user", content="say 2")]).message.content
    assert B3nEmbedding(openai_api_key=FAKE_KEY, api_base=url).get_text_embedding("x")
    assert secure.count("chat") == 2 and secure.count("embeddings") == 2  # the key was accepted every time
    for request in secure.requests:
        assert_clean(json.dumps(request.json), "a request body")


@pytest.mark.parametrize("name", ["anthropic_api_key", "access_token", "gateway_secret", "password"])
def test_credential_like_arguments_no_class_takes_are_refused_without_echo(name: str) -> None:
    from langchain_b3n import B3nEmbeddings, ChatB3n
    from llama_index_b3n import B3n

    for cls in (ChatB3n, B3nEmbeddings, B3n):
        with pytest.raises(e.B3nInvalidRequestError, match="looks like a credential") as info:
            cls(**{name: FAKE_KEY})
        assert_clean("".join(traceback.format_exception(info.value)), f"{cls.__name__}({name}=...)")
