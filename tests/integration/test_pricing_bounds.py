"""The relay's price list never costs a call its answer: bounded, never retried, never shared across relays.

A relay whose ``/api/pricing`` never answers delays a call at most ``min(2 s, timeout)`` once per ten minutes;
a malformed price (NaN, infinite, huge, text, negative) makes the call "unpriced" with one warning.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import warnings
from collections.abc import Callable, Iterator

import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n._errors import B3nRelayDataWarning
from b3n._pricing import PRICE_BOOK
from langchain_b3n import ChatB3n
from tests.conftest import finish_within
from tests.hostile import Handler, HostileServer

COMPLETION = json.dumps({
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Bonjour, ça va ?"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500},
}, ensure_ascii=False).encode()


def _relay(pricing: Callable[[Handler], None]) -> Callable[[Handler, int], None]:
    def script(h: Handler, n: int) -> None:
        if h.path.endswith("/api/pricing"):
            pricing(h)
        else:
            h.reply(200, COMPLETION)

    return script


@pytest.fixture
def never_answers() -> Iterator[Callable[[Handler], None]]:
    released = threading.Event()

    def hang(h: Handler) -> None:
        released.wait(30)  # holds the connection open and silent

    yield hang
    released.set()


@pytest.fixture(autouse=True)
def _fresh_price_book() -> Iterator[None]:
    PRICE_BOOK.clear()
    yield
    PRICE_BOOK.clear()


def test_a_price_list_that_never_answers_costs_a_call_at_most_its_timeout(
    never_answers: Callable[[Handler], None],
) -> None:
    with HostileServer(_relay(never_answers)) as relay:
        llm = ChatB3n(model="gpt-4o-mini", api_key="sk-pricing-hang", base_url=relay.url + "/v1", timeout=1)
        reply, first = finish_within(10, lambda: llm.invoke("Salut"))
        assert reply.content == "Bonjour, ça va ?"
        assert first < 1.8  # the answer, then at most one second for the price list: not 31 s
        assert reply.response_metadata["cost"]["price_source"].startswith("catalog")
        again, second = finish_within(10, lambda: llm.invoke("Salut"))
        assert again.content == "Bonjour, ça va ?" and second < 0.5  # the failure is remembered
        assert relay.count("/api/pricing") == 1  # one attempt, never retried


def test_a_slow_price_list_is_bounded_even_with_a_long_timeout(never_answers: Callable[[Handler], None]) -> None:
    with HostileServer(_relay(never_answers)) as relay:
        client = B3nClient(api_key="sk-pricing-hang", base_url=relay.url + "/v1", timeout=60)
        completion, took = finish_within(10, lambda: client.chat.create("gpt-4o-mini", [{"role": "user", "content": "x"}]))
        assert completion.content == "Bonjour, ça va ?"
        assert took < 3  # PRICING_TIMEOUT (2 s), not the call's 60 s
        assert relay.count("/api/pricing") == 1


def test_a_hanging_relay_does_not_hold_back_the_price_list_of_another(
    never_answers: Callable[[Handler], None],
) -> None:
    def serves(h: Handler) -> None:
        h.reply(200, json.dumps({"success": True, "data": [
            {"model_name": "gpt-4o-mini", "model_ratio": 1, "completion_ratio": 1, "quota_type": 0},
        ], "group_ratio": {"default": 1}}).encode())

    with HostileServer(_relay(never_answers)) as slow, HostileServer(_relay(serves)) as fast:
        stuck = threading.Thread(target=lambda: B3nClient(api_key="sk-a", base_url=slow.url + "/v1", timeout=5)
                                 .chat.create("gpt-4o-mini", [{"role": "user", "content": "x"}]))
        stuck.start()
        while slow.count("/api/pricing") == 0:
            time.sleep(0.01)
        client = B3nClient(api_key="sk-b", base_url=fast.url + "/v1")
        completion, took = finish_within(10, lambda: client.chat.create("gpt-4o-mini", [{"role": "user", "content": "x"}]))
        stuck.join()
    assert took < 0.5  # not behind the other relay's two seconds
    assert completion.cost is not None and completion.cost.price_source == "relay"


def test_the_asyncio_price_list_is_bounded_too(never_answers: Callable[[Handler], None]) -> None:
    with HostileServer(_relay(never_answers)) as relay:
        client = AsyncB3nClient(api_key="sk-pricing-hang", base_url=relay.url + "/v1", timeout=1)

        async def main() -> tuple[str, float]:
            started = time.monotonic()
            completion = await client.chat.create("gpt-4o-mini", [{"role": "user", "content": "x"}])
            return completion.content, time.monotonic() - started

        (content, took), _ = finish_within(10, lambda: asyncio.run(main()))
        assert content == "Bonjour, ça va ?" and took < 1.8
        assert relay.count("/api/pricing") == 1


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e30", '"text"', "-1", "1e400", "true", "[1]"])
@pytest.mark.parametrize("field", ["model_ratio", "completion_ratio", "model_price", "group_ratio"])
def test_a_malformed_price_means_unpriced_and_one_warning(bad: str, field: str) -> None:
    raw = {"model_ratio": "1", "completion_ratio": "2", "model_price": "0.01", "group_ratio": "1"}
    raw[field] = bad  # JSON text as the relay sent it (NaN and Infinity are what Python's json reads too)
    quota_type = 1 if field == "model_price" else 0
    body = (f'{{"success": true, "group_ratio": {{"default": {raw["group_ratio"]}}}, "data": ['
            f'{{"model_name": "gpt-4o-mini", "model_ratio": {raw["model_ratio"]}, '
            f'"completion_ratio": {raw["completion_ratio"]}, "model_price": {raw["model_price"]}, '
            f'"quota_type": {quota_type}}}]}}')

    with HostileServer(_relay(lambda h: h.reply(200, body.encode()))) as relay:
        client = B3nClient(api_key="sk-pricing-bad", base_url=relay.url + "/v1")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = client.chat.create("gpt-4o-mini", [{"role": "user", "content": "x"}])
            second = client.chat.create("gpt-4o-mini", [{"role": "user", "content": "x"}])
    assert first.content == second.content == "Bonjour, ça va ?"  # the answer the user paid for
    assert first.cost is not None and first.cost.price_source == "unpriced" and first.cost.usd == 0
    assert first.cost.prompt_tokens == 1000  # the tokens are still counted
    relay_warnings = [w for w in caught if issubclass(w.category, B3nRelayDataWarning)]
    assert len(relay_warnings) == 1, [str(w.message) for w in caught]
    assert "unpriced" in str(relay_warnings[0].message) and relay.url.split("//")[1] in str(relay_warnings[0].message)


def test_well_formed_prices_of_other_models_still_count(never_answers: Callable[[Handler], None]) -> None:
    body = ('{"success": true, "group_ratio": {"default": 1}, "data": ['
            '{"model_name": "gpt-4o-mini", "model_ratio": NaN}, {"model_name": "gpt-4o", "model_ratio": 2.5}]}')
    with HostileServer(_relay(lambda h: h.reply(200, body.encode()))) as relay:
        client = B3nClient(api_key="sk-pricing-mixed", base_url=relay.url + "/v1")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", B3nRelayDataWarning)
            completion = client.chat.create("gpt-4o", [{"role": "user", "content": "x"}])
    assert completion.cost is not None and completion.cost.price_source == "relay"
    assert completion.cost.quota == round((1000 + 500) * 2.5)
