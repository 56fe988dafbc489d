"""The two drivers of a plan agree: the result, an error thrown in at the effect that failed, early close.

The effect here is a test's own (a list of calls it records), so what is asserted is what a plan sees: the
value each ``yield from`` gives, the exception at the step that failed, and that ``finally`` runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from b3n._plans import Effect, Emit, Plan, StreamPlan, arun, arun_stream, run, run_stream


class Halve(Effect[int]):
    """Half of an even number; an odd one fails (as a relay call would), in either driver."""

    def __init__(self, x: int, log: list[str]) -> None:
        self.x, self.log = x, log

    def _do(self, how: str) -> int:
        self.log.append(f"{how} {self.x}")
        if self.x % 2:
            raise ValueError(f"{self.x} is odd")
        return self.x // 2

    def blocking(self, io: Any) -> int:
        return self._do("blocking")

    async def asyncio(self, io: Any) -> int:
        await asyncio.sleep(0)
        return self._do("asyncio")


def _recovering(log: list[str]) -> Plan[str]:
    """Halves 12 twice, fails on 3, and recovers at that very step."""
    first = yield from Halve(12, log)
    second = yield from Halve(first, log)
    try:
        third = yield from Halve(second, log)
    except ValueError as exc:
        return f"{first},{second}, then {exc}"
    return f"{first},{second},{third}"


def _streaming(log: list[str]) -> StreamPlan[int]:
    try:
        for x in (8, 4, 2):
            yield Emit((yield from Halve(x, log)))
    finally:
        log.append("closed")


def test_both_drivers_give_the_same_result_and_throw_the_error_in_at_its_step() -> None:
    blocking: list[str] = []
    asyncio_log: list[str] = []
    assert run(_recovering(blocking), io=None) == "6,3, then 3 is odd"  # type: ignore[arg-type]
    assert asyncio.run(arun(_recovering(asyncio_log), io=None)) == "6,3, then 3 is odd"  # type: ignore[arg-type]
    assert blocking == ["blocking 12", "blocking 6", "blocking 3"]
    assert asyncio_log == ["asyncio 12", "asyncio 6", "asyncio 3"]


def test_an_error_the_plan_does_not_catch_reaches_the_caller_with_its_type() -> None:
    def failing(log: list[str]) -> Plan[int]:
        return (yield from Halve(5, log))

    with pytest.raises(ValueError, match="5 is odd"):
        run(failing([]), io=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="5 is odd"):
        asyncio.run(arun(failing([]), io=None))  # type: ignore[arg-type]


def test_closing_a_stream_early_closes_the_plan_in_both_drivers() -> None:
    log: list[str] = []
    items: Iterator[int] = run_stream(_streaming(log), io=None)  # type: ignore[arg-type]
    assert next(items) == 4
    items.close()  # type: ignore[attr-defined]
    assert log == ["blocking 8", "closed"]

    async def first_then_close() -> int:
        stream: AsyncIterator[int] = arun_stream(_streaming(alog), io=None)  # type: ignore[arg-type]
        item = await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]
        return item

    alog: list[str] = []
    assert asyncio.run(first_then_close()) == 4
    assert alog == ["asyncio 8", "closed"]


def test_run_refuses_a_streaming_plan() -> None:
    with pytest.raises(TypeError, match="use run_stream"):
        run(_streaming([]), io=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="use arun_stream"):
        asyncio.run(arun(_streaming([]), io=None))  # type: ignore[arg-type]
