"""Cost tracking: every reply carries its cost, and the LangChain / LlamaIndex handlers add them up to
exactly what the relay's recorded usage costs at the prices it serves (new-api ``GET /api/pricing``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

import pytest
from langchain.agents import create_agent

from b3n.testing import Emulator
from langchain_b3n import ChatB3n, get_b3n_callback
from tests.langchain_tools import magic_function

MODELS = ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"]
KEY = "sk-cost-test"


@pytest.fixture
def relay() -> Iterator[Emulator]:
    """A fresh emulator (its own origin, so no price list is cached for it) with a non-trivial group ratio."""
    with Emulator() as emu:
        emu.group_ratio = {"default": 1.5, "vip": 0.8}
        yield emu


def _expected_quota(emu: Emulator) -> int:
    """What new-api bills: per call round((uncached + cached*0.5 + completion*completion_ratio) * ratio * group)."""
    rows = {row["model_name"]: row for row in emu.pricing or []}
    group = Decimal(str(emu.group_ratio["default"]))
    total = 0
    for call in emu.billing.calls:
        row = rows[call.model]
        usage = call.usage
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        tokens = (Decimal(usage["prompt_tokens"] - cached) + Decimal(cached) * Decimal("0.5")
                  + Decimal(usage["completion_tokens"]) * Decimal(str(row["completion_ratio"])))
        value = tokens * Decimal(str(row["model_ratio"])) * group
        total += int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return total


def test_a_100_call_agent_run_costs_what_the_relay_billed_at_its_served_prices(relay: Emulator) -> None:
    llms = [ChatB3n(model=m, api_key=KEY, base_url=relay.base_url) for m in MODELS]
    agents = [create_agent(llm, [magic_function]) for llm in llms]

    async def run_async(agent: object, i: int) -> None:
        await agent.ainvoke({"messages": [("user", f"What is magic_function({i})?")]})  # type: ignore[attr-defined]

    with get_b3n_callback() as cb:
        for i in range(30):  # 2 LLM calls per run: the tool call, then the answer
            agents[i % 3].invoke({"messages": [("user", f"What is magic_function({i})?")]})
        for i in range(10):
            for _ in agents[i % 3].stream({"messages": [("user", f"What is magic_function({i})?")]},
                                          stream_mode="messages"):
                pass

        async def burst() -> None:
            await asyncio.gather(*(run_async(agents[i % 3], i) for i in range(10)))

        asyncio.run(burst())

    assert relay.count("chat") == 100 == cb.successful_requests
    assert relay.count("pricing") == 1  # the price list is fetched once per relay
    billed = relay.billing.calls
    assert len(billed) == 100
    expected = _expected_quota(relay)
    assert cb.total_quota == expected
    assert round(cb.total_cost, 2) == round(expected / 500_000, 2)
    assert abs(cb.total_cost - expected / 500_000) < 1e-9
    assert cb.prompt_tokens == sum(c.usage["prompt_tokens"] for c in billed)
    assert cb.completion_tokens == sum(c.usage["completion_tokens"] for c in billed)
    per_model = cb.by_model()
    assert sorted(per_model) == sorted(MODELS)
    assert sum(m.calls for m in per_model.values()) == 100
    assert all(m.unpriced_calls == 0 and m.quota > 0 for m in per_model.values())


def test_each_reply_carries_its_cost_in_response_metadata(relay: Emulator) -> None:
    llm = ChatB3n(model="claude-3-5-sonnet-latest", api_key=KEY, base_url=relay.base_url)
    reply = llm.invoke("What is 12 * 7?")
    cost = reply.response_metadata["cost"]
    usage = relay.billing.calls[-1].usage
    quota = round((usage["prompt_tokens"] + usage["completion_tokens"] * 5) * 2 * 1.5)
    assert cost == {"model": "claude-3-5-sonnet-latest", "prompt_tokens": usage["prompt_tokens"],
                    "completion_tokens": usage["completion_tokens"], "cached_tokens": 0, "cache_creation_tokens": 0,
                    "reasoning_tokens": 0, "quota": quota, "usd": quota / 500_000, "price_source": "relay"}
    chunks = list(llm.stream("say 1"))
    streamed = [c.response_metadata["cost"] for c in chunks if "cost" in c.response_metadata]
    assert len(streamed) == 1 and streamed[0]["price_source"] == "relay"


def test_a_relay_without_a_price_list_gets_the_dated_catalog_defaults(relay: Emulator) -> None:
    relay.pricing = None  # one-api: no /api/pricing
    llm = ChatB3n(model="gpt-4o-mini", api_key=KEY, base_url=relay.base_url)
    with get_b3n_callback() as cb:
        reply = llm.invoke("say 1")
        llm.invoke("say 2")
    cost = reply.response_metadata["cost"]
    assert cost["price_source"] == "catalog 2026-11-25"
    usage = relay.billing.calls[0].usage
    # gpt-4o-mini list price: $0.15 / $0.60 per million tokens = ratio 0.075, completion ratio 4
    assert cost["quota"] == round((usage["prompt_tokens"] + usage["completion_tokens"] * 4) * 0.075) or cost["quota"] == 1
    assert relay.count("pricing") == 1 and cb.successful_requests == 2


def test_b3n_pricing_catalog_never_asks_the_relay(relay: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3N_PRICING", "catalog")
    ChatB3n(model="gpt-4o-mini", api_key=KEY, base_url=relay.base_url).invoke("say 1")
    assert relay.count("pricing") == 0


def test_llamaindex_cost_handler_adds_up_chat_stream_and_async_calls(relay: Emulator) -> None:
    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n, B3nCostHandler

    handler = B3nCostHandler()
    manager = CallbackManager([handler])
    llms = [B3n(model=m, api_key=KEY, api_base=relay.base_url, callback_manager=manager) for m in MODELS]
    messages = [ChatMessage(role="user", content="What is 12 * 7?")]
    for llm in llms:
        assert llm.chat(messages).additional_kwargs["cost"]["price_source"] == "relay"
        for _ in llm.stream_chat(messages):
            pass
        llm.complete("say 1")

    async def burst() -> None:
        await asyncio.gather(*(llm.achat(messages) for llm in llms for _ in range(3)))

    asyncio.run(burst())
    assert relay.count("chat") == 18 == handler.successful_requests
    assert handler.total_quota == _expected_quota(relay)
    assert sorted(handler.by_model()) == sorted(MODELS)
