"""The stream assembler stays linear on a flood of whitespace-only deltas (issue 14, item 10).

A relay (or a model stuck on padding) can send hundreds of thousands of ``" "`` deltas. Held-back
whitespace used to be re-concatenated and re-stripped on every delta: 40,000 deltas took ~14 s, and
200,000 would take minutes. The budget below is ~10x what the linear code needs on a loaded 2-core
machine; the loop gives up as soon as it is spent, so the quadratic code fails in seconds.
"""

from __future__ import annotations

import time

import pytest

from b3n._chat.stream import StreamAssembler

DELTAS = 200_000
BUDGET_S = 10.0  # CPU seconds; the linear assembler needs about 1


def _delta(text: str) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


@pytest.mark.parametrize(("first", "pad", "last", "expected"), [
    ("", " ", "done", " " * DELTAS + "done"),          # whitespace before any text (the <thinking> probe)
    ("Hi", "\n", "there", "Hi" + "\n" * DELTAS + "there"),  # whitespace held back after text
    ("Hi", " ", "", "Hi"),                               # trailing whitespace, dropped at the end
    ("<thinking>", " ", "</thinking>ok", "ok"),          # inside a thinking block
])
def test_whitespace_flood_is_linear(first: str, pad: str, last: str, expected: str) -> None:
    assembler = StreamAssembler("gemini-1.5-pro-latest")
    pad_delta = _delta(pad)
    started = time.process_time()
    if first:
        assembler.feed(_delta(first))
    for i in range(DELTAS):
        assembler.feed(pad_delta)
        if i % 5000 == 0 and time.process_time() - started > BUDGET_S:
            pytest.fail(f"{i} whitespace deltas took over {BUDGET_S} s of CPU: the assembler is not linear")
    if last:
        assembler.feed(_delta(last))
    assembler.finish()
    result = assembler.result()
    spent = time.process_time() - started
    assert result.content == expected
    assert spent < BUDGET_S, f"{DELTAS} whitespace deltas took {spent:.1f} s of CPU"
