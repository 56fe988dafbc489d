"""What a call costs: the relay's price list (new-api ``GET /api/pricing``) or dated catalog defaults.

one-api / new-api bill in *quota units* (500 000 units = 1 US dollar) from ratios:

- per-token models (``prompt_tokens`` includes cache reads and writes):
  ``quota = (uncached_prompt + cached * cache_ratio + cache_writes * cache_creation_ratio
  + completion * completion_ratio) * model_ratio * group_ratio``, rounded to a whole unit (a model ratio of 1
  is 2 dollars per million prompt tokens);
- per-call models (``quota_type`` 1): ``quota = model_price * 500 000 * group_ratio``.

``GET /api/pricing`` serves ``model_ratio``, ``completion_ratio``, ``model_price`` and ``quota_type`` per model and
``group_ratio`` per group (the ``default`` group is used). It serves no cache ratios, so cached prompt tokens and
cache writes are priced with the catalog's ratios for the model's family (OpenAI 0.5, Claude reads 0.1 and writes
1.25, Gemini 0.25) unless a row carries ``cache_ratio`` / ``cache_creation_ratio``.

Example:
    >>> from b3n import Usage
    >>> table = PriceTable.defaults()
    >>> cost = table.cost("gpt-4o-mini", Usage(prompt_tokens=1000, completion_tokens=500, total_tokens=1500))
    >>> cost.quota, cost.usd, cost.price_source
    (225, 0.00045, 'catalog 2026-11-25')
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from b3n._chat.types import Usage
from b3n._errors import B3nRelayDataWarning
from b3n._json import finite, loads
from b3n._plans import Effect

if TYPE_CHECKING:
    from b3n._transport import AsyncTransport, SyncTransport

    TransportT = TypeVar("TransportT", SyncTransport, AsyncTransport)

#: one-api / new-api quota units per US dollar.
QUOTA_PER_USD = 500_000
#: when the catalog's default prices were last checked against the vendors' list prices.
PRICES_AS_OF = "2026-11-25"
PRICING_PATH = "/api/pricing"
#: ``B3N_PRICING=catalog`` never asks the relay for its prices.
ENV_PRICING = "B3N_PRICING"
#: how long a fetched (or missing) relay price list is used before it is asked for again.
PRICING_TTL = 600.0
#: the longest a call waits for its relay's price list (one attempt, no retry; within the call's own timeout).
PRICING_TIMEOUT = 2.0
#: the largest ratio (or dollars per call) taken as a price; anything larger is a malformed price.
MAX_PRICE_VALUE = 1_000_000.0
#: relays whose price list is kept (the least recently used is forgotten first).
MAX_RELAYS = 64


@dataclass(frozen=True)
class ModelPrice:
    """How one model is billed, in new-api's units."""

    model: str
    model_ratio: float = 0.0
    completion_ratio: float = 1.0
    cache_ratio: float = 1.0
    cache_creation_ratio: float = 1.0
    #: dollars per call for per-call models (``quota_type`` 1), else None.
    model_price: float | None = None
    group_ratio: float = 1.0
    source: str = f"catalog {PRICES_AS_OF}"

    @property
    def usd_per_million_prompt_tokens(self) -> float:
        return self.model_ratio * self.group_ratio * 2.0


@dataclass(frozen=True)
class TokenCounts:
    """What is counted of a model's calls: tokens by kind and the relay's quota units."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0
    quota: int = 0


#: the summable fields of :class:`TokenCounts`.
COUNT_FIELDS = tuple(f.name for f in fields(TokenCounts) if f.name != "model")


@dataclass(frozen=True)
class CallCost(TokenCounts):
    """The cost of one call: its tokens, quota units and US dollars, and where the price came from."""

    usd: float = 0.0
    #: ``"relay"`` (the relay's /api/pricing), ``"catalog YYYY-MM-DD"`` or ``"unpriced"`` (no price known).
    price_source: str = "unpriced"

    @property
    def priced(self) -> bool:
        return self.price_source != "unpriced"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------- catalog defaults

# model -> (model_ratio, completion_ratio); ratio 1 = $2 per million prompt tokens (vendors' list prices).
_DEFAULT_RATIOS: dict[str, tuple[float, float]] = {
    "gpt-3.5-turbo": (0.25, 3),
    "gpt-4": (15, 2),
    "gpt-4-turbo": (5, 3),
    "gpt-4o": (1.25, 4),
    "gpt-4o-mini": (0.075, 4),
    "gpt-4.1": (1, 4),
    "gpt-4.1-mini": (0.2, 4),
    "gpt-4.1-nano": (0.05, 4),
    "gpt-5": (0.625, 8),
    "gpt-5-mini": (0.125, 8),
    "gpt-5-nano": (0.025, 8),
    "o1": (7.5, 4),
    "o1-preview": (7.5, 4),
    "o1-mini": (0.55, 4),
    "o3": (1, 4),
    "o3-mini": (0.55, 4),
    "o4-mini": (0.55, 4),
    "gpt-4-all": (15, 2),
    "gpt-4o-all": (1.25, 4),
    "claude-3-opus-latest": (7.5, 5),
    "claude-3-5-sonnet-latest": (1.5, 5),
    "claude-3-5-haiku-latest": (0.4, 5),
    "claude-3-7-sonnet-latest": (1.5, 5),
    "claude-sonnet-4": (1.5, 5),
    "claude-opus-4": (7.5, 5),
    "gemini-1.5-flash-latest": (0.0375, 4),
    "gemini-1.5-pro-latest": (0.625, 4),
    "gemini-2.0-flash": (0.05, 4),
    "gemini-2.5-flash": (0.15, 8.33),
    "gemini-2.5-pro": (0.625, 8),
    "text-embedding-ada-002": (0.05, 1),
    "text-embedding-3-small": (0.01, 1),
    "text-embedding-3-large": (0.065, 1),
}
#: per-call models: dollars per call.
_DEFAULT_PER_CALL: dict[str, float] = {"dall-e-3": 0.04, "gpt-image-1": 0.04}


def _cache_ratios(model: str) -> tuple[float, float]:
    """(cache read ratio, cache write ratio) of the model's family."""
    low = model.lower()
    if low.startswith("claude"):
        return 0.1, 1.25
    if low.startswith("gemini"):
        return 0.25, 1.0
    if low.startswith(("gpt-5",)):
        return 0.1, 1.0
    if low.startswith(("gpt-4.1", "o3", "o4")):
        return 0.25, 1.0
    return 0.5, 1.0


def _base_name(model: str) -> str:
    """``claude-sonnet-4-20250514-thinking`` -> ``claude-sonnet-4``: the longest default-table prefix."""
    low = model.lower()
    best = ""
    for name in (*_DEFAULT_RATIOS, *_DEFAULT_PER_CALL):
        if (low == name or low.startswith(name + "-")) and len(name) > len(best):
            best = name
    return best


def _default_price(model: str) -> ModelPrice | None:
    base = _base_name(model)
    if not base:
        return None
    cache, creation = _cache_ratios(model)
    if base in _DEFAULT_PER_CALL:
        return ModelPrice(model=model, model_price=_DEFAULT_PER_CALL[base])
    ratio, completion = _DEFAULT_RATIOS[base]
    return ModelPrice(model=model, model_ratio=ratio, completion_ratio=completion, cache_ratio=cache,
                      cache_creation_ratio=creation)


# ----------------------------------------------------------------------------- the table


def _price_value(value: Any, default: float) -> float | None:
    """A price field as a float (``default`` when absent or 0, as new-api means it); None when malformed."""
    if value is None or value == 0:
        return default
    number = None if isinstance(value, bool) else finite(value)  # never raises (10**400, "²", lists: None)
    if number is None or number < 0 or number > MAX_PRICE_VALUE:
        return None
    return number


_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(key: str, message: str) -> None:
    """Warn once per process and ``key`` (a relay's malformed prices, a model's cost)."""
    with _warned_lock:
        if key in _warned or len(_warned) > 1024:
            return
        _warned.add(key)
    warnings.warn(message, B3nRelayDataWarning, stacklevel=3)


def _quota_of(price: ModelPrice, usage: Usage | None, cache_creation: int) -> int:
    if price.model_price is not None:
        value = Decimal(str(price.model_price)) * QUOTA_PER_USD * Decimal(str(price.group_ratio))
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if usage is None:
        return 0
    cached = usage.cached_tokens or 0
    # prompt_tokens counts cache reads and writes too (OpenAI's convention): each is billed at its own ratio
    prompt = Decimal(max(usage.prompt_tokens - cached - cache_creation, 0))
    prompt += Decimal(cached) * Decimal(str(price.cache_ratio))
    prompt += Decimal(cache_creation) * Decimal(str(price.cache_creation_ratio))
    completion = Decimal(usage.completion_tokens) * Decimal(str(price.completion_ratio))
    ratio = Decimal(str(price.model_ratio)) * Decimal(str(price.group_ratio))
    value = (prompt + completion) * ratio
    quota = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if ratio > 0 and quota <= 0 and (usage.prompt_tokens or usage.completion_tokens):
        quota = 1  # the relay never bills a priced call zero
    return quota


@dataclass
class PriceTable:
    """Prices by model name: a relay's list (falling back to the catalog per model) or the catalog alone."""

    prices: dict[str, ModelPrice] = field(default_factory=dict)
    group_ratio: float = 1.0
    source: str = f"catalog {PRICES_AS_OF}"
    #: models whose relay price was malformed (model -> the first bad field; ``"*"``: every model): unpriced.
    malformed: dict[str, str] = field(default_factory=dict)

    @classmethod
    def defaults(cls) -> PriceTable:
        """The catalog's dated default prices only."""
        return cls()

    @classmethod
    def from_relay(cls, body: Any, *, group: str = "default") -> PriceTable | None:
        """Parse a new-api ``/api/pricing`` body; None when it is not one.

        A malformed price (not a number, NaN, infinite, negative or absurdly large) makes that model
        unpriced (``malformed`` names them); a malformed group ratio makes every model unpriced.
        """
        if not isinstance(body, Mapping) or body.get("success") is False or not isinstance(body.get("data"), list):
            return None
        groups = body.get("group_ratio")
        raw_group = groups.get(group) if isinstance(groups, Mapping) else None
        group_ratio = _price_value(raw_group, 1.0)
        prices: dict[str, ModelPrice] = {}
        malformed: dict[str, str] = {}
        for row in body["data"]:
            if not isinstance(row, Mapping) or not isinstance(row.get("model_name"), str):
                continue
            name = row["model_name"]
            cache, creation = _cache_ratios(name)
            per_call = row.get("quota_type") == 1
            values = {
                "model_ratio": _price_value(row.get("model_ratio"), 0.0),
                "completion_ratio": _price_value(row.get("completion_ratio"), 1.0),
                "cache_ratio": _price_value(row.get("cache_ratio"), cache),
                "cache_creation_ratio": _price_value(row.get("cache_creation_ratio"), creation),
                "model_price": _price_value(row.get("model_price"), 0.0) if per_call else 0.0,
            }
            bad = [key for key, value in values.items() if value is None]
            if bad:
                malformed[name] = bad[0]
                continue
            prices[name] = ModelPrice(
                model=name,
                model_ratio=values["model_ratio"] or 0.0,
                completion_ratio=values["completion_ratio"] or 1.0,
                cache_ratio=values["cache_ratio"] or cache,
                cache_creation_ratio=values["cache_creation_ratio"] or creation,
                model_price=values["model_price"] if per_call else None,
                group_ratio=1.0 if group_ratio is None else group_ratio,
                source="relay",
            )
        if group_ratio is None:
            return cls(group_ratio=1.0, source="relay", malformed={"*": "group_ratio"})
        return cls(prices=prices, group_ratio=group_ratio, source="relay", malformed=malformed)

    def price(self, model: str) -> ModelPrice | None:
        """The price of ``model``: the relay's row, else the catalog default for its name, else None."""
        if "*" in self.malformed or model in self.malformed:
            return None
        found = self.prices.get(model)
        if found is not None:
            return found
        default = _default_price(model)
        return replace(default, group_ratio=self.group_ratio) if default is not None else None

    def cost(self, model: str, usage: Usage | None) -> CallCost:
        """The cost of one call of ``model`` that used ``usage``."""
        price = self.price(model)
        cache_creation_tokens = (usage.cache_creation_tokens or 0) if usage is not None else 0
        cached = (usage.cached_tokens or 0) if usage is not None else 0
        base = CallCost(
            model=model,
            prompt_tokens=usage.prompt_tokens if usage is not None else 0,
            completion_tokens=usage.completion_tokens if usage is not None else 0,
            cached_tokens=cached,
            cache_creation_tokens=cache_creation_tokens,
            reasoning_tokens=(usage.reasoning_tokens or 0) if usage is not None else 0,
        )
        if price is None:
            return base
        try:
            quota = _quota_of(price, usage, cache_creation_tokens)
        except (ArithmeticError, InvalidOperation, ValueError):  # the answer arrived: never lose it to a price
            _warn_once(f"cost:{model}", f"The cost of a {model} call could not be computed from its price and "
                       "token counts; it is reported as unpriced.")
            return base
        return replace(base, quota=quota, usd=quota / QUOTA_PER_USD, price_source=price.source)


# ----------------------------------------------------------------------------- fetching once per relay


class PriceBook:
    """The price table of each relay (by origin), fetched at most once per :data:`PRICING_TTL`.

    A relay that serves no ``/api/pricing`` (404, an error, not JSON, no answer in time) gets the catalog
    defaults until the TTL runs out; ``B3N_PRICING=catalog`` never asks. A fetch is one attempt, no retry,
    of at most :data:`PRICING_TIMEOUT` seconds (less when the call's ``timeout`` / ``total_timeout`` are
    shorter); relays never wait for each other. Fetches never raise; malformed prices warn once and make
    their models unpriced.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the dicts only, never held during a fetch
        self._tables: OrderedDict[str, tuple[float, PriceTable]] = OrderedDict()
        self._fetching: dict[str, threading.Lock] = {}
        self._async_fetching: dict[tuple[str, int], asyncio.Lock] = {}

    def _cached(self, origin: str) -> PriceTable | None:
        if os.environ.get(ENV_PRICING, "").strip().lower() == "catalog":
            return PriceTable.defaults()
        entry = self._tables.get(origin)
        if entry is not None and time.monotonic() - entry[0] < PRICING_TTL:
            return entry[1]
        return None

    def _store(self, origin: str, body: Any) -> PriceTable:
        try:
            table = PriceTable.from_relay(body) or PriceTable.defaults()
        except Exception:  # whatever the body holds, the call that asked keeps its answer
            table = PriceTable.defaults()
        if table.malformed:
            shown = ", ".join(f"{model} ({what})" for model, what in list(table.malformed.items())[:3])
            _warn_once(f"relay:{origin}", f"The price list of {origin} has malformed prices ({shown}"
                       f"{', ...' if len(table.malformed) > 3 else ''}): calls of those models are reported as "
                       "unpriced. Ask the relay's operator to fix its /api/pricing.")
        with self._lock:
            self._tables[origin] = (time.monotonic(), table)
            self._tables.move_to_end(origin)
            while len(self._tables) > MAX_RELAYS:
                dropped, _ = self._tables.popitem(last=False)
                self._fetching.pop(dropped, None)
            self._async_fetching = {k: v for k, v in self._async_fetching.items() if k[0] in self._tables}
        return table

    def table(self, transport: SyncTransport) -> PriceTable:
        """The table for ``transport``'s relay (one bounded ``GET /api/pricing`` when not cached)."""
        origin = transport.config.origin
        cached = self._cached(origin)
        if cached is not None:
            return cached
        with self._lock:
            fetching = self._fetching.setdefault(origin, threading.Lock())
        bound = _fetch_bound(transport)
        if not fetching.acquire(timeout=bound):  # another thread is asking this relay: not longer than a fetch
            return PriceTable.defaults()
        try:
            cached = self._cached(origin)
            if cached is not None:
                return cached
            body: Any = None
            try:
                response = _fetcher(transport, bound).request(
                    "GET", PRICING_PATH, credential="none", at_origin=True
                )
                body = loads(response.content)
            except Exception:  # a relay without a price list, or too slow: catalog defaults
                body = None
            return self._store(origin, body)
        finally:
            fetching.release()

    async def atable(self, transport: AsyncTransport) -> PriceTable:
        """Async twin of :meth:`table` (one fetch per relay and event loop at a time)."""
        origin = transport.config.origin
        cached = self._cached(origin)
        if cached is not None:
            return cached
        key = (origin, id(asyncio.get_running_loop()))
        with self._lock:
            fetching = self._async_fetching.setdefault(key, asyncio.Lock())
        bound = _fetch_bound(transport)
        try:
            await asyncio.wait_for(fetching.acquire(), bound)
        except asyncio.TimeoutError:  # (not the builtin TimeoutError before Python 3.11)
            return PriceTable.defaults()
        try:
            cached = self._cached(origin)
            if cached is not None:
                return cached
            body: Any = None
            try:
                response = await _fetcher(transport, bound).request(
                    "GET", PRICING_PATH, credential="none", at_origin=True
                )
                body = loads(response.content)
            except Exception:
                body = None
            return self._store(origin, body)
        finally:
            fetching.release()

    def clear(self) -> None:
        """Forget every fetched table (the next call asks the relay again)."""
        with self._lock:
            self._tables.clear()
            self._fetching.clear()
            self._async_fetching.clear()


def _fetch_bound(transport: SyncTransport | AsyncTransport) -> float:
    """Seconds a price list fetch may take: :data:`PRICING_TIMEOUT`, or the call's shorter timeouts."""
    config = transport.config
    return min(PRICING_TIMEOUT, *(t for t in (config.timeout, config.total_timeout) if t is not None))


def _fetcher(transport: TransportT, bound: float) -> TransportT:
    """A transport like ``transport`` (same pool) for one attempt of at most ``bound`` seconds."""
    config = replace(transport.config, max_retries=0, timeout=bound, total_timeout=bound, stream_idle_timeout=None)
    return type(transport)(config, transport.client)


#: the process-wide price book shared by every client.
PRICE_BOOK = PriceBook()


@dataclass(frozen=True, slots=True)
class Cost(Effect[CallCost]):
    """A plan's effect (see :mod:`b3n._plans`): what one call of ``model`` that used ``usage`` cost.

    The driver's transport names the relay whose price table (fetched once per :data:`PRICING_TTL`) prices it.
    """

    model: str
    usage: Usage | None

    def blocking(self, io: SyncTransport) -> CallCost:
        return PRICE_BOOK.table(io).cost(self.model, self.usage)

    async def asyncio(self, io: AsyncTransport) -> CallCost:
        return (await PRICE_BOOK.atable(io)).cost(self.model, self.usage)
