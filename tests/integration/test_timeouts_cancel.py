"""Timeouts and cancellation: nothing hangs, and a cancelled call leaves no request behind.

- A server that never answers (a loopback socket that accepts connections and never replies)
  makes every public class raise a typed timeout error within the configured ``timeout`` + 1 s.
  Each retry gets the same bound, so ``max_retries`` retries end within (retries + 1) x timeout + 1 s.
- A stream that stalls after it started raises within the stream idle timeout (+1 s), carrying
  what had arrived, even when the overall ``timeout`` is long.
- Cancelling an ``ainvoke``/``astream``-style task closes its connection (the emulator sees the
  client go away), leaves no request running, and the same object keeps working afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core import exceptions as lc

from b3n import _errors as e
from b3n._errors import B3nStreamTimeoutError
from b3n.testing import Emulator
from tests.integration.test_fault_matrix import AUDIO, KEY, PROMPT, SHAPES, SPEECH, TEXTS, Ctx, Shape

TIMEOUT = 0.3
SLACK = 1.0


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short real backoff, so the retry bounds below are about timeouts, not backoff."""
    import functools

    from b3n import _transport as transport
    from b3n._retry import RetryPolicy

    monkeypatch.setattr(transport, "RetryPolicy", functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.05))


@pytest.fixture(scope="module", autouse=True)
def _imported() -> None:
    """Import both frameworks up front: first-import time is not part of any timeout."""
    import importlib

    for name in ("chat_models", "embeddings", "tools", "document_loaders"):
        importlib.import_module(f"langchain_b3n.{name}")
    for name in ("llms", "embeddings", "tools", "readers"):
        importlib.import_module(f"llama_index_b3n.{name}")


@pytest.fixture(scope="module")
def blackhole() -> Iterator[str]:
    """A base URL whose server accepts TCP connections (the kernel does) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        sock.close()


@pytest.fixture
def speech_audio(emulator: Emulator) -> bytes:
    """Real speech bytes from the emulator (the transcription shapes upload them)."""
    if "speech" not in AUDIO:
        from b3n import B3nClient

        AUDIO["speech"] = B3nClient(api_key=KEY, base_url=emulator.base_url).audio.speech(SPEECH)
        emulator.reset()
    return AUDIO["speech"]


def _timeout_error(err: BaseException, langchain: bool) -> None:
    assert isinstance(err, e.B3nTimeoutError), type(err).__mro__
    assert isinstance(err, TimeoutError)  # the builtin, for generic code
    if langchain:
        assert isinstance(err, lc.ModelTimeoutError)
    assert "timeout" in err.message


# ---------------------------------------------------------------------------------------------- never answers


@pytest.mark.parametrize("shape", SHAPES, ids=[s.id for s in SHAPES])
async def test_server_that_never_answers_times_out(
    shape: Shape, blackhole: str, tmp_path: Path, speech_audio: bytes
) -> None:
    ctx = Ctx(blackhole, tmp_path, max_retries=0, timeout=TIMEOUT, idle=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(e.B3nError) as info:
        await shape.run(ctx)
    elapsed = time.monotonic() - started
    _timeout_error(info.value, shape.langchain)
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + SLACK, elapsed


@pytest.mark.parametrize(
    "shape", [s for s in SHAPES if s.id in ("ChatB3n.ainvoke", "B3n.stream_chat", "B3nEmbeddings.embed_documents",
                                            "AsyncB3nClient.audio.transcribe")],
    ids=lambda s: s.id,
)
async def test_retries_of_a_silent_server_are_bounded(
    shape: Shape, emulator: Emulator, tmp_path: Path, speech_audio: bytes
) -> None:
    emulator.inject("slow_first_byte", route=shape.route, times=3, delay=30)
    ctx = Ctx(emulator.base_url, tmp_path, max_retries=2, timeout=TIMEOUT, idle=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(e.B3nError) as info:
        await shape.run(ctx)
    elapsed = time.monotonic() - started
    _timeout_error(info.value, shape.langchain)
    assert emulator.count(shape.route) == 3  # the first try and two retries, each cut at `timeout`
    assert 3 * TIMEOUT * 0.9 <= elapsed < 3 * TIMEOUT + SLACK, elapsed


def _tool_calls(base_url: str, tmp: Path, audio: Path) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    from langchain_core.documents.base import Blob

    from langchain_b3n import (
        B3nAudioLoader,
        B3nImageGeneration,
        B3nSpeechToText,
        B3nTextToSpeech,
        B3nWhisperParser,
    )
    from llama_index_b3n import B3nAudioReader, B3nToolSpec

    lc_kw: dict[str, Any] = {"api_key": KEY, "base_url": base_url, "timeout": TIMEOUT, "max_retries": 0}
    li_kw: dict[str, Any] = {"api_key": KEY, "api_base": base_url, "timeout": TIMEOUT, "max_retries": 0}
    spec = B3nToolSpec(**li_kw)
    return [
        ("B3nImageGeneration.invoke",
         lambda: asyncio.to_thread(B3nImageGeneration(**lc_kw).invoke, {"prompt": "a fox"})),
        ("B3nTextToSpeech.ainvoke", lambda: B3nTextToSpeech(**lc_kw, output_dir=str(tmp)).ainvoke({"text": "hi"})),
        ("B3nSpeechToText.invoke",
         lambda: asyncio.to_thread(B3nSpeechToText(**lc_kw, root_dir=str(tmp)).invoke, {"file_path": str(audio)})),
        ("B3nWhisperParser.parse",
         lambda: asyncio.to_thread(B3nWhisperParser(**lc_kw).parse, Blob.from_path(audio))),
        ("B3nAudioLoader.aload", lambda: B3nAudioLoader(str(audio), **lc_kw).aload()),
        ("B3nToolSpec.generate_image", lambda: asyncio.to_thread(spec.generate_image, "a fox")),
        ("B3nToolSpec.atext_to_speech", lambda: spec.atext_to_speech("hi")),
        ("B3nAudioReader.load_data", lambda: asyncio.to_thread(B3nAudioReader(**li_kw).load_data, audio)),
    ]


async def test_media_tools_and_loaders_time_out(blackhole: str, tmp_path: Path, speech_audio: bytes) -> None:
    """The LangChain tools/loaders and LlamaIndex tool spec/reader, all at once (each is bounded alone)."""
    audio = tmp_path / "hello.mp3"
    audio.write_bytes(speech_audio)
    calls = _tool_calls(blackhole, tmp_path, audio)

    async def one(name: str, call: Callable[[], Awaitable[Any]]) -> tuple[str, float, BaseException | None]:
        started = time.monotonic()
        try:
            await call()
        except Exception as exc:  # examined below
            return name, time.monotonic() - started, exc
        return name, time.monotonic() - started, None

    results = await asyncio.gather(*(one(name, call) for name, call in calls))
    for name, elapsed, exc in results:
        assert exc is not None, f"{name} did not fail"
        assert isinstance(exc, e.B3nTimeoutError), (name, repr(exc))
        assert elapsed < TIMEOUT + SLACK + 0.5, (name, elapsed)


# ---------------------------------------------------------------------------------------------- stalled streams


STREAMS = [s for s in SHAPES if s.group == "sse"]


@pytest.mark.parametrize("shape", STREAMS, ids=[s.id for s in STREAMS])
async def test_stalled_stream_raises_within_idle_timeout(shape: Shape, emulator: Emulator, tmp_path: Path) -> None:
    emulator.inject("stall", route="chat", after=3, delay=30)
    # the idle timeout bounds the silence even though the overall timeout is long
    ctx = Ctx(emulator.base_url, tmp_path, max_retries=2, timeout=30.0, idle=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(B3nStreamTimeoutError) as info:
        await shape.run(ctx)
    elapsed = time.monotonic() - started
    err = info.value
    assert isinstance(err, e.B3nStreamInterruptedError) and isinstance(err, TimeoutError)
    if shape.langchain:
        assert isinstance(err, lc.ModelTimeoutError)
    assert err.partial is not None and err.partial.content == "".join(ctx.sink) != ""
    assert emulator.count("chat") == 1  # content had arrived: not retried
    assert elapsed < TIMEOUT + SLACK, elapsed


async def test_core_client_stream_idle_timeout_is_separate_from_timeout(emulator: Emulator) -> None:
    from b3n import AsyncB3nClient

    emulator.inject("stall", route="chat", after=2, delay=30)
    client = AsyncB3nClient(api_key=KEY, base_url=emulator.base_url, timeout=30, stream_idle_timeout=TIMEOUT)
    received: list[str] = []
    started = time.monotonic()
    with pytest.raises(B3nStreamTimeoutError) as info:
        async for chunk in client.chat.stream("gpt-4o-mini", [{"role": "user", "content": PROMPT}]):
            received.append(chunk.content)
    assert time.monotonic() - started < TIMEOUT + SLACK
    assert info.value.partial.content == "".join(received) != ""


# ---------------------------------------------------------------------------------------------- cancellation


@dataclass(frozen=True)
class Cancellable:
    """One async call on one long-lived object: cancelled mid-flight, then called again."""

    id: str
    route: str
    fault: dict[str, Any]  # injected so the first call is still in flight when it is cancelled
    make: Callable[[str], Any]
    call: Callable[[Any, list[Any]], Awaitable[Any]]
    streams: bool = False


def _lc_chat(base_url: str) -> Any:
    from langchain_b3n import ChatB3n

    return ChatB3n(model="gpt-4o-mini", api_key=KEY, base_url=base_url)


def _li_llm(base_url: str) -> Any:
    from llama_index_b3n import B3n

    return B3n(model="gpt-4o-mini", api_key=KEY, api_base=base_url)


def _li_msgs() -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content=PROMPT)]


async def _lc_ainvoke(llm: Any, sink: list[Any]) -> Any:
    return (await llm.ainvoke(PROMPT)).content


async def _lc_astream(llm: Any, sink: list[Any]) -> Any:
    async for chunk in llm.astream(PROMPT):
        sink.append(chunk.content)
    return "".join(sink)


async def _li_achat(llm: Any, sink: list[Any]) -> Any:
    return (await llm.achat(_li_msgs())).message.content


async def _li_astream(llm: Any, sink: list[Any]) -> Any:
    last = None
    async for response in await llm.astream_chat(_li_msgs()):
        sink.append(response.delta)
        last = response.message.content
    return last


def _lc_emb(base_url: str) -> Any:
    from langchain_b3n import B3nEmbeddings

    return B3nEmbeddings(api_key=KEY, base_url=base_url)


def _li_emb(base_url: str) -> Any:
    from llama_index_b3n import B3nEmbedding

    return B3nEmbedding(api_key=KEY, api_base=base_url)


def _aclient(base_url: str) -> Any:
    from b3n import AsyncB3nClient

    return AsyncB3nClient(api_key=KEY, base_url=base_url)


async def _aiter_speech(client: Any, sink: list[Any]) -> Any:
    async for chunk in client.audio.iter_speech(SPEECH):
        sink.append(chunk)
    return b"".join(sink)


async def _images(client: Any, sink: list[Any]) -> Any:
    return (await client.images.generate("a fox")).images[0].url


SLOW = {"kind": "slow_first_byte", "delay": 30}
STALL = {"kind": "stall", "after": 4, "delay": 30}

CANCELLABLE = [
    Cancellable("ChatB3n.ainvoke", "chat", SLOW, _lc_chat, _lc_ainvoke),
    Cancellable("ChatB3n.astream", "chat", STALL, _lc_chat, _lc_astream, streams=True),
    Cancellable("B3n.achat", "chat", SLOW, _li_llm, _li_achat),
    Cancellable("B3n.astream_chat", "chat", STALL, _li_llm, _li_astream, streams=True),
    Cancellable("B3nEmbeddings.aembed_documents", "embeddings", SLOW, _lc_emb,
                lambda emb, sink: emb.aembed_documents(TEXTS)),
    Cancellable("B3nEmbedding.aget_text_embedding_batch", "embeddings", SLOW, _li_emb,
                lambda emb, sink: emb.aget_text_embedding_batch(TEXTS)),
    Cancellable("AsyncB3nClient.images.generate", "images", SLOW, _aclient,
                _images),
    Cancellable("AsyncB3nClient.audio.iter_speech", "speech", SLOW, _aclient, _aiter_speech),
    Cancellable("AsyncB3nClient.audio.transcribe", "transcriptions", SLOW, _aclient,
                lambda c, sink: c.audio.transcribe(AUDIO["speech"])),
]


def _received(emulator: Emulator, route: str) -> bool:
    record = emulator.last_request(route)
    return emulator.active_requests == 1 and record is not None and record.body_size > 0


async def _until(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


@pytest.mark.parametrize("case", CANCELLABLE, ids=[c.id for c in CANCELLABLE])
async def test_cancelling_closes_the_connection_and_the_object_stays_usable(
    case: Cancellable, emulator: Emulator, speech_audio: bytes
) -> None:
    fresh = await case.call(case.make(emulator.base_url), [])  # what the call returns undisturbed
    emulator.reset()
    obj = case.make(emulator.base_url)
    fault = dict(case.fault)
    emulator.inject(fault.pop("kind"), route=case.route, **fault)
    sink: list[Any] = []
    task = asyncio.create_task(case.call(obj, sink))
    assert await _until(lambda: _received(emulator, case.route))  # the whole request is in, the reply is held
    if case.streams:
        assert await _until(lambda: len(sink) >= 1)  # content is flowing, then the stream stalls
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _until(lambda: emulator.disconnects == 1), "the emulator never saw the client go away"
    assert await _until(lambda: emulator.active_requests == 0)
    assert emulator.count(case.route) == 1  # cancelling never triggers a retry
    started = time.monotonic()
    assert await case.call(obj, []) == fresh  # the same object works again, promptly
    assert time.monotonic() - started < 2
    assert emulator.count(case.route) == 2


async def test_cancelling_one_of_many_concurrent_calls_leaves_the_others_alone(emulator: Emulator) -> None:
    llm = _lc_chat(emulator.base_url)
    emulator.inject("slow_first_byte", route="chat", times=1, delay=30)
    victim = asyncio.create_task(llm.ainvoke("say victim"))
    assert await _until(lambda: emulator.active_requests == 1)
    others = [asyncio.create_task(llm.ainvoke(f"say {i}")) for i in range(10)]
    victim.cancel()
    results = await asyncio.gather(*others)
    assert [m.content for m in results] == [str(i) for i in range(10)]
    with pytest.raises(asyncio.CancelledError):
        await victim
    assert await _until(lambda: emulator.disconnects == 1)
    assert emulator.count("chat") == 11


async def _consume(stream: AsyncIterator[Any], n: int) -> list[Any]:
    out = []
    async for item in stream:
        out.append(item)
        if len(out) == n:
            break
    return out


async def test_breaking_out_of_astream_closes_the_connection(emulator: Emulator) -> None:
    """Leaving an ``astream`` loop early (not cancelling) also releases the connection."""
    llm = _lc_chat(emulator.base_url)
    emulator.inject("stall", route="chat", after=3, delay=30)
    stream = llm.astream(PROMPT)
    assert len(await _consume(stream, 2)) == 2
    await stream.aclose()  # type: ignore[attr-defined]
    assert await _until(lambda: emulator.disconnects == 1)
    assert await _until(lambda: emulator.active_requests == 0)
    assert (await llm.ainvoke("say 1")).content == "1"
