"""ChatB3n.batch / abatch find the relay's per-key limit by themselves (the embeddings' adaptive limiter).

The emulator plays a relay that admits 3 chat requests in flight per key and answers 429 with
``Retry-After`` beyond that; the batch asks for 12 at a time. Asserted at the server: every input
answered exactly once, never more than 3 in flight, a bounded number of 429s (the opening burst), and
the answers in input order.
"""

from __future__ import annotations

import asyncio
import collections

import pytest

from b3n.testing import Emulator
from langchain_b3n import ChatB3n

INPUTS = [f"say {i}" for i in range(24)]
LIMIT = 3
MAX_CONCURRENCY = 12


def _relay(emulator: Emulator) -> None:
    emulator.traffic.set_latency("chat", 0.15, jitter=0.03, seed=5)
    emulator.traffic.set_limit(concurrent=LIMIT, retry_after=0.3)


def _answered(emulator: Emulator) -> collections.Counter[str]:
    """The prompt of every chat request the relay answered with 200."""
    return collections.Counter(
        r.json["messages"][-1]["content"] for r in emulator.requests
        if r.route.endswith("chat/completions") and r.status == 200
    )


def _llm(base_url: str, key: str) -> ChatB3n:
    return ChatB3n(model="gpt-4o-mini", api_key=key, base_url=base_url, max_retries=2)


def test_batch_backs_off_to_the_relay_limit_and_keeps_order(emulator: Emulator, base_url: str) -> None:
    _relay(emulator)
    replies = _llm(base_url, "sk-batch-sync").batch(INPUTS, config={"max_concurrency": MAX_CONCURRENCY})
    assert [r.content for r in replies] == [str(i) for i in range(len(INPUTS))]
    assert _answered(emulator) == collections.Counter(INPUTS)  # none lost, none sent twice after an answer
    assert emulator.traffic.peak_concurrency == LIMIT
    assert emulator.traffic.rejected <= MAX_CONCURRENCY  # the opening burst (12 for 3 slots), then at most probes


def test_abatch_shares_the_limit_found_by_an_earlier_batch(emulator: Emulator, base_url: str) -> None:
    _relay(emulator)
    key = "sk-batch-shared"
    first = _llm(base_url, key).batch(INPUTS, config={"max_concurrency": MAX_CONCURRENCY})
    assert [r.content for r in first] == [str(i) for i in range(len(INPUTS))]
    emulator.reset()
    _relay(emulator)
    second = _llm(base_url, key)  # another instance, same relay, key and max_concurrency: the same limiter
    replies = asyncio.run(second.abatch(INPUTS, config={"max_concurrency": MAX_CONCURRENCY}))
    assert [r.content for r in replies] == [str(i) for i in range(len(INPUTS))]
    assert _answered(emulator) == collections.Counter(INPUTS)
    assert emulator.traffic.peak_concurrency == LIMIT
    assert emulator.traffic.rejected <= 2  # it starts at the limit the first found (a probe or two above, no burst)


@pytest.mark.parametrize("run_async", [False, True], ids=["batch", "abatch"])
def test_a_batch_without_max_concurrency_is_bounded_too(emulator: Emulator, base_url: str, run_async: bool) -> None:
    _relay(emulator)
    llm = _llm(base_url, f"sk-batch-default-{run_async}")
    replies = asyncio.run(llm.abatch(INPUTS)) if run_async else llm.batch(INPUTS)
    assert [r.content for r in replies] == [str(i) for i in range(len(INPUTS))]
    assert _answered(emulator) == collections.Counter(INPUTS)
    assert emulator.traffic.peak_concurrency == LIMIT
    assert emulator.traffic.rejected <= 16  # at most one opening burst from the default ceiling
