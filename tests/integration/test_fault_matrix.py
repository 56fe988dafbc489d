"""Fault matrix: every relay fault the emulator can inject x every call shape of every public class.

Each cell injects one fault on the call's route (``Emulator.inject``), makes one real call over
HTTP and asserts the outcome: the call recovered within ``max_retries`` (same result as a
fault-free call, and exactly the expected number of requests reached the emulator), or it failed
with the right typed error (status, one-api code, relay request id, actionable message; for
``ChatB3n`` and ``B3nEmbeddings`` also the matching ``langchain_core.exceptions.Model*Error``), or
a stream that had already delivered content was *not* retried and raised an interrupted-stream
error carrying the partial output. Backoff is real but short (``RetryPolicy`` patched to 10-50 ms);
``test_retry_after_is_really_waited`` proves a server's ``Retry-After`` is honoured in real time.

Columns (call shapes, ``max_retries=2``, ``timeout=0.4`` s, stream idle timeout 0.3 s):

=============== =============================================================================
group           shapes
=============== =============================================================================
json            ChatB3n.invoke / .ainvoke, B3n.chat / .achat (LlamaIndex),
                B3nEmbeddings.embed_documents / .aembed_documents,
                B3nEmbedding.get_text_embedding_batch / .aget_text_embedding_batch,
                B3nClient.audio.transcribe and the AsyncB3nClient twin
image           B3nClient.images.generate and the async twin (billed, JSON body)
audio           B3nClient.audio.speech and the async twin (billed, a binary body, not JSON)
sse             ChatB3n.stream / .astream, B3n.stream_chat / .astream_chat
audio_stream    B3nClient.audio.speech_to_file (sync), AsyncB3nClient.audio.iter_speech (async)
=============== =============================================================================

Streams do not apply to the embeddings classes, images or transcriptions (those endpoints have no
stream mode), so they have only the blocking and async columns.

Rows (faults) and the outcome per group; ``OK n`` = recovered, the emulator saw n requests;
``ERR`` = typed error; ``CUT`` = interrupted stream, never retried (1 request); ``BILLED`` =
``B3nPossiblyBilledError``, not retried (1 request); ``-`` = does not apply, with the reason below
the table:

===================== ============================== ============ ============ ============ ============ ============
fault                 injection                      json         image        audio        sse          audio_stream
===================== ============================== ============ ============ ============ ============ ============
429_retry_after       rate_limit(retry_after=0) x1   OK 2         OK 2         OK 2         OK 2         OK 2
429_no_retry_after    rate_limit x1                  OK 2         OK 2         OK 2         OK 2         OK 2
429_exhausted         rate_limit x3                  ERR 429 (3)  ERR 429 (3)  ERR 429 (3)  ERR 429 (3)  ERR 429 (3)
500_html              server_error(500) x1           OK 2         BILLED (1)   BILLED (1)   OK 2         BILLED (1)
502_html_twice        server_error(502) x2           OK 3         BILLED (1)   BILLED (1)   OK 3         BILLED (1)
503_html_exhausted    server_error(503) x3           ERR 503 (3)  BILLED (1)   BILLED (1)   ERR 503 (3)  BILLED (1)
quota_403             quota                          ERR 403 (1)  ERR 403 (1)  ERR 403 (1)  ERR 403 (1)  ERR 403 (1)
auth_401              auth                           ERR 401 (1)  ERR 401 (1)  ERR 401 (1)  ERR 401 (1)  ERR 401 (1)
model_unavailable     model_unavailable (503)        ERR 503 (1)  ERR 503 (1)  ERR 503 (1)  ERR 503 (1)  ERR 503 (1)
connection_refused    base_url -> a closed port      ERR conn (0) ERR conn (0) ERR conn (0) ERR conn (0) ERR conn (0)
drop                  drop x1 (no response at all)   OK 2         BILLED (1)   BILLED (1)   OK 2         BILLED (1)
drop_exhausted        drop x3                        ERR conn (3) BILLED (1)   BILLED (1)   ERR conn (3) BILLED (1)
cut_before_content    stream_cut(after=0) x1         OK 2         BILLED (1)   BILLED (1)   OK 2         BILLED (1)
cut_mid_stream        stream_cut(after=2)            - (a)        - (a)        - (a)        CUT          CUT
malformed_sse_line    malformed_chunk(after=2)       ERR resp (1) ERR resp (1) - (b)        OK 1 (warn)  - (b)
slow_first_byte       slow_first_byte(0.1 s)         OK 1         OK 1         OK 1         OK 1         OK 1
first_byte_timeout    slow_first_byte(3 s) x1        OK 2         BILLED (1)   BILLED (1)   OK 2         BILLED (1)
stall_before_content  stall(after=0, 3 s) x1         - (c)        - (c)        - (c)        OK 2         - (c)
stall_mid_stream      stall(after=2, 3 s)            - (c)        - (c)        - (c)        CUT timeout  - (c)
bad_json_200          bad_json (200, truncated JSON) ERR resp (1) ERR resp (1) ERR resp (1) ERR resp (1) ERR resp (1)
===================== ============================== ============ ============ ============ ============ ============

Why ``BILLED``: image generation and speech are billed per call and are not idempotent (a slow
DALL-E call retried after a read timeout could bill three images). They are repeated only when the
relay provably did not start the work: no connection was made (``connection_refused``), or it
answered 429 (or 408) before doing anything. A 5xx, a timeout, a dropped connection or a body cut
after the 200 may come after the upstream already did (and billed) the work, so the call raises
``B3nPossiblyBilledError`` (with the underlying error on ``.cause``) after exactly one request.
``retry_billed=True`` opts back into the retries (``test_retry_billed_opts_back_in``).

(a) For whole-body calls a cut is a cut: ``cut_before_content`` already covers them (the emulator
    sends half the announced body, then closes the connection; retried, nothing reached the caller).
(b) The emulator's malformed-chunk fault truncates JSON bodies and inserts a bad SSE line; raw
    audio bodies are left alone (and a client cannot validate raw audio bytes anyway).
(c) ``stall`` only differs from ``slow_first_byte`` for SSE bodies: the emulator stalls every
    other body before its first byte, which ``first_byte_timeout`` covers.

``bad_json_200`` is never retried: the relay said 200, so the call may have been billed.

A stream that broke before delivering anything (``cut_before_content``, ``stall_before_content``)
is retried like any failure before the response; once content has reached the caller it never is.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from langchain_core import exceptions as lc

from b3n import _errors as e
from b3n._errors import B3nStreamTimeoutError
from b3n.testing import Emulator

KEY = "sk-faultmatrix0123456789abcdefghijklmnopqrstuvwxyzABCD"
PROMPT = "Tell me a story about a fox and a dog who meet in the forest"
TEXTS = ["alpha", "beta gamma", "delta"]
IMAGE_PROMPT = "a red fox in the snow"
SPEECH = "The quick brown fox jumps over the lazy dog, again and again, until the sun goes down."
MAX_RETRIES = 2
TIMEOUT = 0.4
IDLE_TIMEOUT = 0.3

# ---------------------------------------------------------------------------------------------- shapes


@dataclass
class Ctx:
    """What one call needs: where to send it, client settings, and a list streamed pieces go to."""

    base_url: str
    tmp: Path
    sink: list[Any] = field(default_factory=list)
    max_retries: int = MAX_RETRIES
    timeout: float = TIMEOUT
    #: stream idle timeout
    idle: float = IDLE_TIMEOUT
    retry_billed: bool = False


@dataclass(frozen=True)
class Shape:
    id: str
    group: str  # json | image | audio | sse | audio_stream
    route: str
    is_async: bool
    langchain: bool  # errors must also be langchain_core Model*Errors
    call: Callable[[Ctx], Any]

    async def run(self, ctx: Ctx) -> Any:
        if self.is_async:
            return await self.call(ctx)
        return await asyncio.to_thread(self.call, ctx)


def _chat_b3n(ctx: Ctx) -> Any:
    from langchain_b3n import ChatB3n

    return ChatB3n(model="gpt-4o-mini", api_key=KEY, base_url=ctx.base_url, max_retries=ctx.max_retries,
                   timeout=ctx.timeout, stream_idle_timeout=ctx.idle)


def _li_b3n(ctx: Ctx) -> Any:
    from llama_index_b3n import B3n

    return B3n(model="gpt-4o-mini", api_key=KEY, api_base=ctx.base_url, max_retries=ctx.max_retries,
               timeout=ctx.timeout, stream_idle_timeout=ctx.idle)


def _li_messages() -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content=PROMPT)]


def _lc_embeddings(ctx: Ctx) -> Any:
    from langchain_b3n import B3nEmbeddings

    return B3nEmbeddings(api_key=KEY, base_url=ctx.base_url, max_retries=ctx.max_retries, timeout=ctx.timeout)


def _li_embedding(ctx: Ctx) -> Any:
    from llama_index_b3n import B3nEmbedding

    return B3nEmbedding(api_key=KEY, api_base=ctx.base_url, max_retries=ctx.max_retries, timeout=ctx.timeout)


def _client(ctx: Ctx) -> Any:
    from b3n import B3nClient

    return B3nClient(api_key=KEY, base_url=ctx.base_url, max_retries=ctx.max_retries, timeout=ctx.timeout,
                     stream_idle_timeout=ctx.idle, retry_billed=ctx.retry_billed)


def _aclient(ctx: Ctx) -> Any:
    from b3n import AsyncB3nClient

    return AsyncB3nClient(api_key=KEY, base_url=ctx.base_url, max_retries=ctx.max_retries, timeout=ctx.timeout,
                          stream_idle_timeout=ctx.idle, retry_billed=ctx.retry_billed)


def lc_invoke(ctx: Ctx) -> str:
    return str(_chat_b3n(ctx).invoke(PROMPT).content)


async def lc_ainvoke(ctx: Ctx) -> str:
    return str((await _chat_b3n(ctx).ainvoke(PROMPT)).content)


def lc_stream(ctx: Ctx) -> str:
    for chunk in _chat_b3n(ctx).stream(PROMPT):
        ctx.sink.append(chunk.content)
    return "".join(ctx.sink)


async def lc_astream(ctx: Ctx) -> str:
    async for chunk in _chat_b3n(ctx).astream(PROMPT):
        ctx.sink.append(chunk.content)
    return "".join(ctx.sink)


def li_chat(ctx: Ctx) -> str:
    return str(_li_b3n(ctx).chat(_li_messages()).message.content)


async def li_achat(ctx: Ctx) -> str:
    return str((await _li_b3n(ctx).achat(_li_messages())).message.content)


def li_stream_chat(ctx: Ctx) -> str:
    last = ""
    for response in _li_b3n(ctx).stream_chat(_li_messages()):
        ctx.sink.append(response.delta or "")
        last = str(response.message.content)
    return last


async def li_astream_chat(ctx: Ctx) -> str:
    last = ""
    async for response in await _li_b3n(ctx).astream_chat(_li_messages()):
        ctx.sink.append(response.delta or "")
        last = str(response.message.content)
    return last


def lc_embed(ctx: Ctx) -> list[list[float]]:
    return _lc_embeddings(ctx).embed_documents(TEXTS)  # type: ignore[no-any-return]


async def lc_aembed(ctx: Ctx) -> list[list[float]]:
    return await _lc_embeddings(ctx).aembed_documents(TEXTS)  # type: ignore[no-any-return]


def li_embed(ctx: Ctx) -> list[list[float]]:
    return _li_embedding(ctx).get_text_embedding_batch(TEXTS)  # type: ignore[no-any-return]


async def li_aembed(ctx: Ctx) -> list[list[float]]:
    return await _li_embedding(ctx).aget_text_embedding_batch(TEXTS)  # type: ignore[no-any-return]


def images_generate(ctx: Ctx) -> str | None:
    return _client(ctx).images.generate(IMAGE_PROMPT).images[0].url  # type: ignore[no-any-return]


async def aimages_generate(ctx: Ctx) -> str | None:
    return (await _aclient(ctx).images.generate(IMAGE_PROMPT)).images[0].url  # type: ignore[no-any-return]


def speech(ctx: Ctx) -> bytes:
    return _client(ctx).audio.speech(SPEECH)  # type: ignore[no-any-return]


async def aspeech(ctx: Ctx) -> bytes:
    return await _aclient(ctx).audio.speech(SPEECH)  # type: ignore[no-any-return]


def speech_to_file(ctx: Ctx) -> bytes:
    return Path(_client(ctx).audio.speech_to_file(ctx.tmp / "speech.mp3", SPEECH)).read_bytes()


async def aiter_speech(ctx: Ctx) -> bytes:
    async for chunk in _aclient(ctx).audio.iter_speech(SPEECH):
        ctx.sink.append(chunk)
    return b"".join(ctx.sink)


AUDIO: dict[str, bytes] = {}


def _audio() -> bytes:
    """Speech made by a fault-free emulator (filled by the baseline fixture) to transcribe."""
    return AUDIO["speech"]


def transcribe(ctx: Ctx) -> str:
    return str(_client(ctx).audio.transcribe(_audio()).text)


async def atranscribe(ctx: Ctx) -> str:
    return str((await _aclient(ctx).audio.transcribe(_audio())).text)


SHAPES = [
    Shape("ChatB3n.invoke", "json", "chat", False, True, lc_invoke),
    Shape("ChatB3n.ainvoke", "json", "chat", True, True, lc_ainvoke),
    Shape("ChatB3n.stream", "sse", "chat", False, True, lc_stream),
    Shape("ChatB3n.astream", "sse", "chat", True, True, lc_astream),
    Shape("B3n.chat", "json", "chat", False, False, li_chat),
    Shape("B3n.achat", "json", "chat", True, False, li_achat),
    Shape("B3n.stream_chat", "sse", "chat", False, False, li_stream_chat),
    Shape("B3n.astream_chat", "sse", "chat", True, False, li_astream_chat),
    Shape("B3nEmbeddings.embed_documents", "json", "embeddings", False, True, lc_embed),
    Shape("B3nEmbeddings.aembed_documents", "json", "embeddings", True, True, lc_aembed),
    Shape("B3nEmbedding.get_text_embedding_batch", "json", "embeddings", False, False, li_embed),
    Shape("B3nEmbedding.aget_text_embedding_batch", "json", "embeddings", True, False, li_aembed),
    Shape("B3nClient.images.generate", "image", "images", False, False, images_generate),
    Shape("AsyncB3nClient.images.generate", "image", "images", True, False, aimages_generate),
    Shape("B3nClient.audio.speech", "audio", "speech", False, False, speech),
    Shape("AsyncB3nClient.audio.speech", "audio", "speech", True, False, aspeech),
    Shape("B3nClient.audio.speech_to_file", "audio_stream", "speech", False, False, speech_to_file),
    Shape("AsyncB3nClient.audio.iter_speech", "audio_stream", "speech", True, False, aiter_speech),
    Shape("B3nClient.audio.transcribe", "json", "transcriptions", False, False, transcribe),
    Shape("AsyncB3nClient.audio.transcribe", "json", "transcriptions", True, False, atranscribe),
]

# ---------------------------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Ok:
    requests: int
    warns: bool = False  # a "malformed stream chunk" warning must be logged


@dataclass(frozen=True)
class Err:
    cls: type[e.B3nError]
    lc_cls: type[Exception]
    requests: int
    status: int | None = None
    code: str | None = None
    hint: str = ""  # a phrase of the actionable message
    relay: bool = True  # the relay answered: a request id must be on the error
    cause: type[e.B3nError] | None = None  # for BILLED: the class of the underlying error on ``.cause``


@dataclass(frozen=True)
class Cut:
    cls: type[e.B3nStreamInterruptedError] = e.B3nStreamInterruptedError
    lc_cls: type[Exception] = lc.ModelAPIError


Outcome = Ok | Err | Cut | None  # None: the fault does not apply to this group (see the module docstring)

RATE = Err(e.B3nRateLimitError, lc.ModelRateLimitError, 3, 429, "rate_limit_exceeded", "raise max_retries")
SERVER = Err(e.B3nServerError, lc.ModelAPIError, 3, 503, None, "HTML error page")
QUOTA = Err(e.B3nInsufficientQuotaError, lc.ModelPermissionDeniedError, 1, 403, "insufficient_user_quota", "Top up")
AUTH = Err(e.B3nAuthenticationError, lc.ModelAuthenticationError, 1, 401, "invalid_api_key", "B3N_API_KEY")
NO_MODEL = Err(e.B3nModelNotAvailableError, lc.ModelNotFoundError, 1, 503, "model_not_found", "b3n models")
REFUSED = Err(e.B3nConnectionError, lc.ModelConnectionError, 0, hint="Check base_url", relay=False)
DROPPED = Err(e.B3nConnectionError, lc.ModelConnectionError, 3, hint="Try again later", relay=False)
BAD_BODY = Err(e.B3nResponseError, lc.ModelAPIError, 1, hint="try again", relay=False)


def billed(status: int | None = None, cause: type[e.B3nError] = e.B3nServerError) -> Err:
    """A billed call that failed after it may have been processed: one request, never repeated."""
    return Err(e.B3nPossiblyBilledError, lc.ModelError, 1, status, None, "may already have been processed and billed",
               relay=status is not None, cause=cause)


BILLED_DROP = billed(None, e.B3nConnectionError)
BILLED_TIMEOUT = billed(None, e.B3nTimeoutError)
#: the outcome of the billed groups where it differs from the ``json`` / streaming one (see the docstring).
BILLED_GROUPS = ("image", "audio", "audio_stream")
BILLED_OUTCOMES: dict[str, Outcome] = {
    "500_html": billed(500),
    "502_html_twice": billed(502),
    "503_html_exhausted": billed(503),
    "drop": BILLED_DROP,
    "drop_exhausted": BILLED_DROP,
    "cut_before_content": BILLED_DROP,
    "first_byte_timeout": BILLED_TIMEOUT,
}


@dataclass(frozen=True)
class Fault:
    id: str
    kind: str | None  # None: connection refused (no emulator involved)
    params: dict[str, Any]
    times: int
    outcomes: dict[str, Outcome]  # per group


def _all(outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(("json", "image", "audio", "sse", "audio_stream"), outcome)


FAULTS = [
    Fault("429_retry_after", "rate_limit", {"retry_after": 0}, 1, _all(Ok(2))),
    Fault("429_no_retry_after", "rate_limit", {}, 1, _all(Ok(2))),
    Fault("429_exhausted", "rate_limit", {"retry_after": 0}, 3, _all(RATE)),
    Fault("500_html", "server_error", {"status": 500}, 1, _all(Ok(2))),
    Fault("502_html_twice", "server_error", {"status": 502}, 2, _all(Ok(3))),
    Fault("503_html_exhausted", "server_error", {"status": 503}, 3, _all(SERVER)),
    Fault("quota_403", "quota", {}, 1, _all(QUOTA)),
    Fault("auth_401", "auth", {}, 1, _all(AUTH)),
    Fault("model_unavailable", "model_unavailable", {}, 1, _all(NO_MODEL)),
    Fault("connection_refused", None, {}, 0, _all(REFUSED)),
    Fault("drop", "drop", {}, 1, _all(Ok(2))),
    Fault("drop_exhausted", "drop", {}, 3, _all(DROPPED)),
    Fault("cut_before_content", "stream_cut", {"after": 0}, 1, _all(Ok(2))),
    Fault("cut_mid_stream", "stream_cut", {"after": 2}, 1,
          {"json": None, "image": None, "audio": None, "sse": Cut(), "audio_stream": Cut()}),
    Fault("malformed_sse_line", "malformed_chunk", {"after": 2}, 1,
          {"json": BAD_BODY, "image": BAD_BODY, "audio": None, "sse": Ok(1, warns=True), "audio_stream": None}),
    Fault("slow_first_byte", "slow_first_byte", {"delay": 0.1}, 1, _all(Ok(1))),
    Fault("first_byte_timeout", "slow_first_byte", {"delay": 3.0}, 1, _all(Ok(2))),
    Fault("stall_before_content", "stall", {"after": 0, "delay": 3.0}, 1,
          {"json": None, "image": None, "audio": None, "sse": Ok(2), "audio_stream": None}),
    Fault("stall_mid_stream", "stall", {"after": 2, "delay": 3.0}, 1,
          {"json": None, "image": None, "audio": None, "sse": Cut(B3nStreamTimeoutError, lc.ModelTimeoutError),
           "audio_stream": None}),
    Fault("bad_json_200", "bad_json", {}, 1, _all(BAD_BODY)),
]
for _fault in FAULTS:
    if _fault.id in BILLED_OUTCOMES:
        _fault.outcomes.update(dict.fromkeys(BILLED_GROUPS, BILLED_OUTCOMES[_fault.id]))

#: one event loop for the module, so async cells share the pooled AsyncClient as an application would.
module_loop = pytest.mark.asyncio(loop_scope="module")

CELLS = [
    pytest.param(fault, shape, id=f"{fault.id}-{shape.id}")
    for fault in FAULTS
    for shape in SHAPES
    if fault.outcomes[shape.group] is not None
]

# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep backoff real but short (Retry-After values are still honoured as sent)."""
    from b3n import _transport as transport
    from b3n._retry import RetryPolicy

    monkeypatch.setattr(transport, "RetryPolicy", functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.05))


BASELINE: dict[str, Any] = {}


async def baseline(shape: Shape, emulator: Emulator, tmp: Path) -> Any:
    """The fault-free result of ``shape`` (the emulator is deterministic), computed once per session."""
    if shape.id not in BASELINE:
        if "speech" not in AUDIO:
            from b3n import B3nClient

            AUDIO["speech"] = B3nClient(api_key=KEY, base_url=emulator.base_url).audio.speech(SPEECH)
        BASELINE[shape.id] = await shape.run(Ctx(emulator.base_url, tmp / "baseline"))
        emulator.reset()
    return BASELINE[shape.id]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# ---------------------------------------------------------------------------------------------- the matrix


def test_matrix_covers_every_fault_kind_and_class() -> None:
    from b3n.testing.faults import FAULT_KINDS

    injected = {f.kind for f in FAULTS if f.kind}
    from b3n.testing.relays import TOKEN_ERRORS

    relay_kinds = {*TOKEN_ERRORS, "midstream_error"}  # relay-shaped errors: see test_relay_profiles / test_relay_errors
    assert FAULT_KINDS - injected == {"empty_choices", *relay_kinds}  # a 200 without choices: see test_core_client
    assert len(CELLS) >= 300
    for group in ("json", "image", "audio", "sse", "audio_stream"):
        assert any(s.group == group for s in SHAPES)


@module_loop
@pytest.mark.parametrize(("fault", "shape"), CELLS)
async def test_cell(
    fault: Fault,
    shape: Shape,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    outcome = fault.outcomes[shape.group]
    assert outcome is not None
    expected = await baseline(shape, emulator, tmp_path)
    if fault.kind is None:
        ctx = Ctx(closed_port_url(), tmp_path)
    else:
        ctx = Ctx(emulator.base_url, tmp_path)
        emulator.inject(fault.kind, route=shape.route, times=fault.times, **fault.params)
    caplog.set_level(logging.WARNING, logger="b3n")
    started = time.monotonic()
    if isinstance(outcome, Ok):
        result = await shape.run(ctx)
        assert result == expected
        assert emulator.count(shape.route) == outcome.requests
        assert any("malformed" in r.getMessage() for r in caplog.records) is outcome.warns
        return
    with pytest.raises(e.B3nError) as info:
        await shape.run(ctx)
    err = info.value
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"{shape.id} took {elapsed:.1f}s to fail"
    assert "sk-faultmatrix" not in str(err)
    if isinstance(outcome, Cut):
        _check_cut(err, outcome, shape, ctx, expected)
        assert emulator.count(shape.route) == 1  # content had flowed: never retried
        return
    assert isinstance(err, outcome.cls), f"{type(err).__mro__} is not {outcome.cls}"
    if shape.langchain:
        assert isinstance(err, outcome.lc_cls), f"{type(err).__mro__} is not {outcome.lc_cls}"
    assert emulator.count(shape.route) == outcome.requests
    assert err.status_code == outcome.status
    assert err.code == outcome.code
    assert outcome.hint.lower() in err.message.lower(), err.message
    if outcome.relay:
        assert err.request_id and err.request_id in str(err)
    if outcome.cause is not None:
        assert isinstance(err, e.B3nPossiblyBilledError) and isinstance(err.cause, outcome.cause), repr(err)


@module_loop
@pytest.mark.parametrize("shape", [s for s in SHAPES if s.group in BILLED_GROUPS], ids=lambda s: s.id)
async def test_retry_billed_opts_back_in(shape: Shape, emulator: Emulator, tmp_path: Path) -> None:
    """With ``retry_billed=True`` a billed call is retried after a 5xx like any other (2 requests)."""
    expected = await baseline(shape, emulator, tmp_path)
    emulator.inject("server_error", route=shape.route, times=1, status=502)
    ctx = Ctx(emulator.base_url, tmp_path, retry_billed=True)
    assert await shape.run(ctx) == expected
    assert emulator.count(shape.route) == 2


def _check_cut(err: e.B3nError, outcome: Cut, shape: Shape, ctx: Ctx, expected: Any) -> None:
    assert isinstance(err, outcome.cls), f"{type(err).__mro__} is not {outcome.cls}"
    if shape.langchain:
        assert isinstance(err, outcome.lc_cls)
    assert isinstance(err, e.B3nStreamInterruptedError)
    assert "Not retried" in err.message or "not retried" in err.message.lower()
    if shape.group == "sse":
        received = "".join(ctx.sink)
        partial = err.partial
        assert partial is not None and partial.content, "the partial output is carried on the error"
        assert partial.content == received  # exactly what the caller already saw
        assert expected.startswith(received) and received != expected
    elif shape.id.endswith("speech_to_file"):
        assert list(ctx.tmp.iterdir()) == []  # no half-written audio file is left behind
    else:
        received_bytes = b"".join(ctx.sink)
        assert expected.startswith(received_bytes) and received_bytes != expected


# ---------------------------------------------------------------------------------------------- Retry-After


def test_retry_after_is_really_waited(emulator: Emulator) -> None:
    """The one cell with a real wait: a 429 with ``Retry-After: 1`` delays the retry by a second."""
    from langchain_b3n import ChatB3n

    emulator.inject("rate_limit", route="chat", times=1, retry_after=1)
    llm = ChatB3n(model="gpt-4o-mini", api_key=KEY, base_url=emulator.base_url, max_retries=1)
    started = time.monotonic()
    assert llm.invoke("say 1").content == "1"
    elapsed = time.monotonic() - started
    first, second = (r for r in emulator.requests if r.route.endswith("/chat/completions"))
    assert first.status == 429 and second.status == 200
    assert second.time - first.time >= 0.95
    assert 0.95 <= elapsed < 3


@module_loop
async def test_retry_after_http_date_is_honoured_async(emulator: Emulator) -> None:
    """``Retry-After`` may be an HTTP date; the async path waits for it too (capped, never negative)."""
    import email.utils

    from llama_index_b3n import B3nEmbedding

    when = email.utils.formatdate(time.time() + 2, usegmt=True)  # whole seconds: waits 1-2 s
    emulator.inject("rate_limit", route="embeddings", times=1, retry_after=when)
    emb = B3nEmbedding(api_key=KEY, api_base=emulator.base_url, max_retries=1)
    started = time.monotonic()
    vectors = await emb.aget_text_embedding_batch(TEXTS)
    assert len(vectors) == 3 and emulator.count("embeddings") == 2
    assert 0.5 <= time.monotonic() - started < 4

