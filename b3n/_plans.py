"""Plans: the logic of a call written once, carried out by a blocking or an asyncio driver (sans-IO).

A *plan* is a generator that never does I/O itself. It asks for each I/O step as a typed *effect*
(:class:`Effect`), written ``response = yield from Send(...)``: the ``yield`` hands the effect to the
driver, which carries it out on its transport and sends the result back (or throws the error in, at
that point of the plan). So what a plan reads is typed (``Send`` gives an ``httpx.Response``,
``NextItem`` the next event or ``None``), the plan holds no transport, and everything between the
I/O steps (what to send, how to read the answer, which fallback to try, what it cost) exists once
for both twins. The drivers differ in one line: :func:`run` calls ``effect.blocking(io)`` where
:func:`arun` awaits ``effect.asyncio(io)``.

A streaming plan also yields :class:`Emit` items, which :func:`run_stream` and :func:`arun_stream`
pass on to their caller. The transport's effects are in :mod:`b3n._effects`; the price table's is
:class:`b3n._pricing.Cost`.

Example:
    >>> import asyncio
    >>> class Double(Effect[int]):
    ...     def __init__(self, x: int) -> None:
    ...         self.x = x
    ...     def blocking(self, io):
    ...         return 2 * self.x
    ...     async def asyncio(self, io):
    ...         return 2 * self.x
    >>> def plan():
    ...     first = yield from Double(1)
    ...     second = yield from Double(first)
    ...     return first + second
    >>> run(plan(), io=None), asyncio.run(arun(plan(), io=None))
    (6, 6)
    >>> def streaming_plan():
    ...     for x in (1, 2):
    ...         yield Emit((yield from Double(x)))
    >>> list(run_stream(streaming_plan(), io=None))
    [2, 4]
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from b3n._transport import AsyncTransport, SyncTransport

R = TypeVar("R")
T = TypeVar("T")
TransportT = TypeVar("TransportT")


class Effect(Generic[R]):
    """One I/O step a plan asks for; ``result = yield from effect`` hands it to the driver.

    A subclass says how each driver carries it out: :meth:`blocking` on a ``SyncTransport``,
    :meth:`asyncio` on an ``AsyncTransport``. Both give the same ``R``.
    """

    __slots__ = ()

    def blocking(self, io: SyncTransport) -> R:
        raise NotImplementedError

    async def asyncio(self, io: AsyncTransport) -> R:
        raise NotImplementedError

    def __iter__(self) -> Generator[Effect[Any], Any, R]:
        result: R = yield self
        return result


@dataclass(frozen=True, slots=True)
class Emit(Generic[T]):
    """An item a streaming plan hands to its caller (everything else it yields is an :class:`Effect`)."""

    item: T


#: a plan returning ``R``: it yields effects only.
Plan = Generator[Effect[Any], Any, R]
#: a streaming plan: it yields effects and :class:`Emit` items of ``T``.
StreamPlan = Generator["Effect[Any] | Emit[T]", Any, None]


def run(plan: Plan[R], io: SyncTransport) -> R:
    """The result of ``plan``, its effects carried out on the blocking transport ``io``."""
    result: list[R] = []
    for item in run_stream(_keeping_result(plan, result), io):
        raise TypeError(f"run() got a streaming plan (it emitted {item!r}); use run_stream().")
    return result[0]


def run_stream(plan: StreamPlan[T], io: SyncTransport) -> Iterator[T]:
    """The items ``plan`` emits, its effects carried out on the blocking transport ``io``.

    Closing the iterator closes the plan, so its ``finally`` blocks run.
    """
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                step = plan.throw(error) if error is not None else plan.send(value)
            except StopIteration:
                return
            value, error = None, None
            if isinstance(step, Emit):
                yield step.item
                continue
            try:
                value = step.blocking(io)
            except BaseException as exc:  # thrown into the plan at the yield that asked for the effect
                error = exc
    finally:
        plan.close()


async def arun(plan: Plan[R], io: AsyncTransport) -> R:
    """The result of ``plan``, its effects carried out (awaited) on the asyncio transport ``io``."""
    result: list[R] = []
    async for item in arun_stream(_keeping_result(plan, result), io):
        raise TypeError(f"arun() got a streaming plan (it emitted {item!r}); use arun_stream().")
    return result[0]


async def arun_stream(plan: StreamPlan[T], io: AsyncTransport) -> AsyncIterator[T]:
    """The items ``plan`` emits, its effects carried out (awaited) on the asyncio transport ``io``.

    Closing (or cancelling) the stream closes the plan, so its ``finally`` blocks run.
    """
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                step = plan.throw(error) if error is not None else plan.send(value)
            except StopIteration:
                return
            value, error = None, None
            if isinstance(step, Emit):
                yield step.item
                continue
            try:
                value = await step.asyncio(io)
            except BaseException as exc:  # thrown into the plan at the yield that asked for the effect
                error = exc
    finally:
        plan.close()


def _keeping_result(plan: Plan[R], into: list[R]) -> StreamPlan[Any]:
    into.append((yield from plan))


class Service(Generic[TransportT]):
    """A service of the client (``client.images``, ...): the transport its plans run on."""

    def __init__(self, transport: TransportT) -> None:
        self._transport = transport
