"""Plans: the logic of a call written once, run by the blocking client and the asyncio client alike (sans-IO).

A *plan* is a generator that yields every I/O call it makes, in the form ``result = yield io_call(...)``,
where ``io_call`` is a method of a transport (or of anything else with a blocking and an asyncio
twin). With a blocking transport the call has already happened when the ``yield`` runs, so
:func:`run` hands its result straight back; with an asyncio transport the call returned an
awaitable, which :func:`arun` awaits and sends back (or throws its exception into the plan, at the
``yield`` that made the call). Everything between the I/O calls (what to send, how to read the
answer, which fallback to try, what it costs) therefore exists once, and the twins differ only in
the transport they were built with and the driver they call.

A streaming plan also yields :class:`Emit` items, which :func:`run_stream` and :func:`arun_stream`
pass on to their caller.

Example:
    >>> import asyncio
    >>> class Blocking:
    ...     def double(self, x: int) -> int:
    ...         return 2 * x
    >>> class Asyncio:
    ...     async def double(self, x: int) -> int:
    ...         return 2 * x
    >>> def plan(io):
    ...     first = yield io.double(1)
    ...     second = yield io.double(first)
    ...     return first + second
    >>> run(plan(Blocking())), asyncio.run(arun(plan(Asyncio())))
    (6, 6)
    >>> def streaming_plan(io):
    ...     for x in (1, 2):
    ...         yield Emit((yield io.double(x)))
    >>> list(run_stream(streaming_plan(Blocking())))
    [2, 4]
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T")
TransportT = TypeVar("TransportT")

#: a plan returning ``R``: it yields I/O calls (and, when streaming, :class:`Emit` items).
Plan = Generator[Any, Any, R]


@dataclass(frozen=True, slots=True)
class Emit(Generic[T]):
    """An item a streaming plan hands to its caller (everything else it yields is an I/O call)."""

    item: T


def run(plan: Plan[R]) -> R:
    """The result of a plan built on a blocking transport (each yielded value is the call's result)."""
    value: Any = None
    while True:
        try:
            step = plan.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if isinstance(step, Emit):
            raise TypeError(f"run() got a streaming plan (it emitted {step.item!r}); use run_stream().")
        value = step


def run_stream(plan: Plan[Any]) -> Iterator[Any]:
    """The items a streaming plan built on a blocking transport emits (closing the stream closes the plan)."""
    with closing(plan):
        value: Any = None
        while True:
            try:
                step = plan.send(value)
            except StopIteration:
                return
            if isinstance(step, Emit):
                yield step.item
                value = None
            else:
                value = step


async def arun(plan: Plan[R]) -> R:
    """The result of a plan built on an asyncio transport (each yielded awaitable is awaited)."""
    result: list[R] = []
    async for item in arun_stream(_keeping_result(plan, result)):
        raise TypeError(f"arun() got a streaming plan (it emitted {item!r}); use arun_stream().")
    return result[0]


def _keeping_result(plan: Plan[R], into: list[R]) -> Plan[None]:
    into.append((yield from plan))


async def arun_stream(plan: Plan[Any]) -> AsyncIterator[Any]:
    """The items a streaming plan built on an asyncio transport emits.

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
                value = (await step) if inspect.isawaitable(step) else step
            except BaseException as exc:  # thrown into the plan at the yield that made the call
                error = exc
    finally:
        plan.close()


def next_item(items: Iterator[T] | AsyncIterator[T]) -> Any:
    """For ``yield`` in a plan: the next item of a blocking or an asyncio iterator, None at its end."""
    if isinstance(items, AsyncIterator):
        return anext(items, None)
    return next(items, None)


class Service(Generic[TransportT]):
    """A service of the client (``client.images``, ...): the transport its plans run on."""

    def __init__(self, transport: TransportT) -> None:
        self._transport = transport
