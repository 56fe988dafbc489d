"""Load and soak: 5,000 mixed calls at concurrency 50 with 2% injected retryable faults.

The mix: ``ChatB3n`` (ainvoke, astream, and invoke on worker threads), LlamaIndex ``B3n``
(achat, astream_chat, and stream_chat on worker threads), the core ``AsyncB3nClient`` (chat
create and stream) and both embeddings classes, over GPT, Claude and Gemini models, one shared
instance per class (as an application holds them). The emulator injects 429s, 502/503 HTML pages,
dropped connections and bodies cut before any content, each at 0.5% of requests.

What must hold:

- every call completes with *its own* right answer ("say <n>" -> "<n>"; embeddings equal the
  fault-free vectors), so nothing is lost, mixed up or answered twice;
- no duplicate request for a completed call: the emulator saw exactly 5,000 + (faults it
  injected) requests, i.e. each fault cost exactly one retry and nothing else was re-sent;
- open file descriptors return to where they were after an identical warm-up run (the shared
  pools keep their keep-alive sockets, nothing else), and RSS grows by less than 20 MB;
- it all finishes in well under 90 s on a 2-core CI machine (the emulator runs in this process).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from b3n.testing import Emulator
from b3n.testing.faults import Fault, FaultBook

KEY = "sk-soak0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
TOTAL = 5_000
WARMUP = 600
CONCURRENCY = 50
FAULTS = {  # kind -> params; each at 0.5% of requests, 2% in all
    "rate_limit": {"retry_after": 0},
    "server_error": {"status": 503},
    "drop": {},
    "stream_cut": {"after": 0},
}
FAULT_RATE = 0.005
EMBED_TEXTS = [f"soak document number {j}" for j in range(8)]


def _fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@dataclass
class Fleet:
    """One long-lived instance of each class, shared by every call (as an application would)."""

    base_url: str
    expected_vectors: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from b3n import AsyncB3nClient
        from langchain_b3n import B3nEmbeddings, ChatB3n
        from llama_index_b3n import B3n, B3nEmbedding

        kw: dict[str, Any] = {"api_key": KEY, "max_retries": 4, "timeout": 20}
        self.chat = {m: ChatB3n(model=m, base_url=self.base_url, **kw) for m in ("gpt-4o-mini", "gemini-1.5-flash-latest")}
        self.llm = {m: B3n(model=m, api_base=self.base_url, **kw) for m in ("claude-3-5-sonnet-latest", "gpt-4o")}
        self.client = AsyncB3nClient(base_url=self.base_url, **kw)
        self.lc_emb = B3nEmbeddings(base_url=self.base_url, **kw)
        self.li_emb = B3nEmbedding(api_base=self.base_url, **kw)


def _li_msgs(text: str) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content=text)]


async def _lc_ainvoke(f: Fleet, n: int) -> Any:
    return (await f.chat["gpt-4o-mini"].ainvoke(f"say {n}")).content


async def _lc_astream(f: Fleet, n: int) -> Any:
    return "".join([str(c.content) async for c in f.chat["gemini-1.5-flash-latest"].astream(f"say {n}")])


async def _lc_invoke_thread(f: Fleet, n: int) -> Any:
    return (await asyncio.to_thread(f.chat["gemini-1.5-flash-latest"].invoke, f"say {n}")).content


async def _li_achat(f: Fleet, n: int) -> Any:
    return (await f.llm["claude-3-5-sonnet-latest"].achat(_li_msgs(f"say {n}"))).message.content


async def _li_astream(f: Fleet, n: int) -> Any:
    last = None
    async for r in await f.llm["gpt-4o"].astream_chat(_li_msgs(f"say {n}")):
        last = r
    return last.message.content if last is not None else None


async def _li_stream_thread(f: Fleet, n: int) -> Any:
    def run() -> Any:
        last = None
        for r in f.llm["claude-3-5-sonnet-latest"].stream_chat(_li_msgs(f"say {n}")):
            last = r
        return last.message.content if last is not None else None

    return await asyncio.to_thread(run)


async def _core_create(f: Fleet, n: int) -> Any:
    return (await f.client.chat.create("gpt-4o-mini", [{"role": "user", "content": f"say {n}"}])).content


async def _core_stream(f: Fleet, n: int) -> Any:
    chunks = [c async for c in f.client.chat.stream("claude-3-5-haiku-latest", [{"role": "user", "content": f"say {n}"}])]
    assert chunks[-1].final
    return "".join(c.content for c in chunks)


async def _lc_embed(f: Fleet, n: int) -> Any:
    text = EMBED_TEXTS[n % len(EMBED_TEXTS)]
    return (await f.lc_emb.aembed_query(text)) == f.expected_vectors[text]


async def _li_embed(f: Fleet, n: int) -> Any:
    text = EMBED_TEXTS[n % len(EMBED_TEXTS)]
    return (await f.li_emb.aget_text_embedding(text)) == f.expected_vectors[text]


Call = Callable[[Fleet, int], Awaitable[Any]]
#: (call, weight): chat dominates, as in agent loops; a tenth of the calls block worker threads.
MIX: list[tuple[Call, int]] = [
    (_lc_ainvoke, 3), (_lc_astream, 3), (_lc_invoke_thread, 1),
    (_li_achat, 3), (_li_astream, 3), (_li_stream_thread, 1),
    (_core_create, 2), (_core_stream, 2),
    (_lc_embed, 1), (_li_embed, 1),
]
SCHEDULE: list[Call] = [call for call, weight in MIX for _ in range(weight)]


def _expected(call: Call, n: int) -> Any:
    return True if call in (_lc_embed, _li_embed) else str(n)


async def _run(fleet: Fleet, count: int, offset: int) -> list[str]:
    """``count`` calls at concurrency 50; returns a description of every wrong or failed call."""
    todo = iter(range(offset, offset + count))
    problems: list[str] = []

    async def worker() -> None:
        for n in todo:
            call = SCHEDULE[n % len(SCHEDULE)]
            try:
                result = await call(fleet, n)
            except Exception as exc:  # reported below, with the call that failed
                problems.append(f"{call.__name__}({n}) raised {exc!r:.200}")
                continue
            if result != _expected(call, n):
                problems.append(f"{call.__name__}({n}) returned {result!r:.80}")

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return problems


class _CountingFaults(FaultBook):
    """The emulator's fault book, counting the faults it actually hands out."""

    def __init__(self, inner: FaultBook) -> None:
        self.__dict__.update(inner.__dict__)
        self.injected = 0

    def take(self, route: str) -> Fault | None:
        fault = super().take(route)
        if fault is not None:
            self.injected += 1
        return fault


@pytest.fixture
def soak_emulator(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    import b3n._transport
    from b3n._retry import RetryPolicy

    monkeypatch.setattr(b3n._transport, "RetryPolicy", functools.partial(RetryPolicy, base_delay=0.005, max_delay=0.02))
    monkeypatch.setattr(emulator, "_faults", _CountingFaults(emulator._faults))
    return emulator


async def test_soak_5000_mixed_calls_with_faults(soak_emulator: Emulator) -> None:
    emu = soak_emulator
    faults: _CountingFaults = emu._faults  # type: ignore[assignment]
    fleet = Fleet(emu.base_url)
    for text in EMBED_TEXTS:
        fleet.expected_vectors[text] = await fleet.lc_emb.aembed_query(text)
    for seed, (kind, params) in enumerate(FAULTS.items()):
        emu.set_fault_rate(kind, FAULT_RATE, route="*", seed=seed, **params)

    # warm-up: the same mix, so pools, caches and lazy imports reach their steady state
    assert await _run(fleet, WARMUP, offset=100_000) == []
    gc.collect()
    fds_before, rss_before = _fd_count(), _rss_mb()
    emu.reset()  # counts (and fault rates) start afresh for the measured run
    faults.injected = 0
    for seed, (kind, params) in enumerate(FAULTS.items()):
        emu.set_fault_rate(kind, FAULT_RATE, route="*", seed=100 + seed, **params)

    started = time.monotonic()
    problems = await _run(fleet, TOTAL, offset=0)
    elapsed = time.monotonic() - started

    assert problems == [], f"{len(problems)} calls went wrong, e.g. {problems[:5]}"
    assert emu.server_errors == []
    assert faults.injected > TOTAL * 0.01, "the fault injection did not happen"
    assert emu.total_requests == TOTAL + faults.injected, (emu.total_requests, faults.injected)
    await asyncio.sleep(0.2)  # let the emulator finish closing dropped connections
    gc.collect()
    fds_after, rss_after = _fd_count(), _rss_mb()
    # the sync pool may keep one more idle socket per worker thread than the warm-up happened to need
    threads = min(32, (os.cpu_count() or 1) + 4)  # asyncio.to_thread's default executor size
    assert fds_after - fds_before <= threads, (fds_before, fds_after)
    assert rss_after - rss_before < 20, (rss_before, rss_after)
    assert elapsed < 90, elapsed
    print(  # shown with pytest -s, for the performance log
        f"\nsoak: {TOTAL} calls + {faults.injected} injected faults in {elapsed:.1f}s "
        f"({TOTAL / elapsed:.0f} calls/s), fds {fds_before}->{fds_after}, RSS {rss_before:.1f}->{rss_after:.1f} MB"
    )


def test_repeated_asyncio_run_does_not_leak_sockets(emulator: Emulator) -> None:
    """Scripts and task queues often wrap each async call in ``asyncio.run``: each run's loop gets a
    pool, and the pool of a closed loop must be released (its sockets closed), not kept forever."""
    from langchain_b3n import ChatB3n
    from llama_index_b3n import B3nEmbedding

    llm = ChatB3n(model="gpt-4o-mini", api_key=KEY, base_url=emulator.base_url)
    emb = B3nEmbedding(api_key=KEY, api_base=emulator.base_url)

    async def burst(n: int) -> None:
        replies = await asyncio.gather(*(llm.ainvoke(f"say {n + i}") for i in range(5)))
        assert [r.content for r in replies] == [str(n + i) for i in range(5)]
        assert len(await emb.aget_text_embedding_batch(["a", "b"])) == 2

    asyncio.run(burst(0))
    gc.collect()
    before = _fd_count()
    for n in range(1, 31):
        asyncio.run(burst(n * 10))
    gc.collect()
    assert _fd_count() - before <= 12, "each closed event loop kept its connections open"  # at most one run's pool
