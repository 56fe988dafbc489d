"""The transport's effects: what a plan (:mod:`b3n._plans`) may ask of a ``SyncTransport`` or ``AsyncTransport``.

- :func:`http`: one call with retries, its whole body read: an ``httpx.Response``.
- :class:`OpenEvents` / :class:`OpenBytes`: a stream opened (SSE ``data`` objects / binary chunks): an
  :class:`Items` that the plan reads one at a time with ``yield from items.next()`` (``None`` at the end).

A plan writes ``response = yield from http("POST", path, json_body=...)``; the driver (``b3n._plans.run`` /
``arun``) sends what the effect holds:

Example:
    >>> effect = http("GET", "/models", model="gpt-4o-mini")
    >>> type(effect).__name__, effect.options.method, effect.options.path, effect.options.billed
    ('Send', 'GET', '/models', False)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast, overload

from b3n._plans import Effect
from b3n._prepared import CallOptions, Credential

if TYPE_CHECKING:
    import httpx

    from b3n._body import CutHandler, HeadersSeen
    from b3n._transport import AsyncTransport, SyncTransport

P = ParamSpec("P")
T = TypeVar("T")


class Send(Effect["httpx.Response"]):
    """One call (``transport.send``): retried per policy; the successful response, its body read."""

    __slots__ = ("options",)

    def __init__(self, options: CallOptions) -> None:
        self.options = options

    def blocking(self, io: SyncTransport) -> httpx.Response:
        return io.send(self.options)

    async def asyncio(self, io: AsyncTransport) -> httpx.Response:
        return await io.send(self.options)


def _sending(options: Callable[P, CallOptions]) -> Callable[P, Send]:
    def make(*args: P.args, **kwargs: P.kwargs) -> Send:
        return Send(options(*args, **kwargs))

    make.__doc__ = "The effect of one call; takes :class:`b3n._prepared.CallOptions`' arguments."
    return make


#: ``response = yield from http("POST", path, json_body=..., model=...)``: the arguments of ``CallOptions``.
http = _sending(CallOptions)


class Items(Generic[T]):
    """A stream a plan opened; ``item = yield from items.next()`` reads the next one (``None`` at its end)."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterator[T] | AsyncIterator[T]) -> None:
        self._items = items

    def next(self) -> NextItem[T]:
        return NextItem(self._items)


class NextItem(Effect["T | None"]):
    """The next item of an open stream, ``None`` at its end."""

    __slots__ = ("items",)

    def __init__(self, items: Iterator[T] | AsyncIterator[T]) -> None:
        self.items = items

    # A stream is opened by the driver that reads it, so a blocking driver only ever meets an Iterator here
    # and an asyncio driver an AsyncIterator.
    def blocking(self, io: SyncTransport) -> T | None:
        return next(cast("Iterator[T]", self.items), None)

    async def asyncio(self, io: AsyncTransport) -> T | None:
        return await anext(cast("AsyncIterator[T]", self.items), None)


@dataclass(frozen=True, slots=True)
class OpenEvents(Effect[Items[dict[str, Any]]]):
    """An SSE stream opened (``transport.iter_sse``): its ``data`` objects until ``[DONE]``, read lazily."""

    path: str
    payload: Mapping[str, Any]
    _: KW_ONLY
    model: str | None = None
    on_open: HeadersSeen | None = None
    credential: Credential = "api_key"

    def blocking(self, io: SyncTransport) -> Items[dict[str, Any]]:
        return Items(self.open(io))

    async def asyncio(self, io: AsyncTransport) -> Items[dict[str, Any]]:
        return Items(self.open(io))

    @overload
    def open(self, io: SyncTransport) -> Iterator[dict[str, Any]]: ...
    @overload
    def open(self, io: AsyncTransport) -> AsyncIterator[dict[str, Any]]: ...
    def open(self, io: SyncTransport | AsyncTransport) -> Iterator[dict[str, Any]] | AsyncIterator[dict[str, Any]]:
        """The stream on ``io`` itself (read it with ``for`` / ``async for``)."""
        return io.iter_sse(self.path, self.payload, model=self.model, on_open=self.on_open,
                           credential=self.credential)


@dataclass(frozen=True, slots=True)
class OpenBytes(Effect[Items[bytes]]):
    """A binary body opened (``transport.iter_bytes``): its chunks as they arrive, read lazily."""

    method: str
    path: str
    _: KW_ONLY
    json_body: Any = None
    model: str | None = None
    billed: bool = False
    what: str = "the request"
    interrupted: CutHandler | None = None

    def blocking(self, io: SyncTransport) -> Items[bytes]:
        return Items(self.open(io))

    async def asyncio(self, io: AsyncTransport) -> Items[bytes]:
        return Items(self.open(io))

    @overload
    def open(self, io: SyncTransport) -> Iterator[bytes]: ...
    @overload
    def open(self, io: AsyncTransport) -> AsyncIterator[bytes]: ...
    def open(self, io: SyncTransport | AsyncTransport) -> Iterator[bytes] | AsyncIterator[bytes]:
        """The body's chunks on ``io`` itself (read them with ``for`` / ``async for``)."""
        return io.iter_bytes(self.method, self.path, json_body=self.json_body, model=self.model, billed=self.billed,
                             what=self.what, interrupted=self.interrupted)
