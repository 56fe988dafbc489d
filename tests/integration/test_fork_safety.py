"""Process safety of the shared pools (issue 14, item 9).

After ``os.fork()`` (gunicorn ``--preload``, multiprocessing's fork start method) the child must not
reuse the parent's pooled sockets: two processes reading one socket get each other's answers.
"""

from __future__ import annotations

import json
import os
import select
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from b3n import B3nClient
from b3n.testing import Emulator

CALLS = 20

# fork is POSIX-only, and forking a threaded process is unsafe in macOS system libraries
pytestmark = [
    pytest.mark.skipif(sys.platform not in ("linux",), reason="needs os.fork with threads (Linux)"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),  # 3.12+: on purpose
]


def _ask(client: B3nClient, who: str, i: int) -> tuple[str, str]:
    expected = f"{who}-{i}-{os.getpid()}"
    try:
        got = client.chat.create("gpt-4o-mini", [{"role": "user", "content": f"Say: {expected}"}]).content or ""
    except Exception as exc:  # a garbled or cut answer is one of the failures this test counts
        got = f"{type(exc).__name__}: {exc}"[:200]
    return expected, got


def _burst(client: B3nClient, who: str) -> list[tuple[str, str]]:
    with ThreadPoolExecutor(CALLS) as pool:
        return list(pool.map(lambda i: _ask(client, who, i), range(CALLS)))


def _read_child(fd: int, pid: int, deadline: float = 60.0) -> list[tuple[str, str]]:
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], deadline)
        if not ready:
            os.kill(pid, 9)
            pytest.fail("the forked child hung (a pool lock inherited held?)")
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    os.waitpid(pid, 0)
    return [tuple(pair) for pair in json.loads(b"".join(chunks) or b"[]")]  # type: ignore[misc]


def test_parent_and_forked_child_each_get_their_own_answers(emulator: Emulator) -> None:
    emulator.latency = 0.02  # keep every call in flight long enough for the two processes to overlap
    client = B3nClient(api_key="sk-test", base_url=emulator.base_url, max_retries=0, timeout=20)
    warm = _burst(client, "warm")  # fills the shared pool with kept-alive connections
    assert all(expected == got for expected, got in warm)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its burst, the answers down the pipe, and out without running pytest's atexit
        try:
            os.close(read_fd)
            payload = json.dumps(_burst(client, "child")).encode()
            os.write(write_fd, payload)
        finally:
            os._exit(0)
    os.close(write_fd)
    parent = _burst(client, "parent")
    child = _read_child(read_fd, pid)
    wrong = [(e, g) for e, g in parent + child if e != g]
    assert len(parent) == len(child) == CALLS
    assert not wrong, f"{len(wrong)} of {2 * CALLS} calls got another answer: {wrong[:3]}"
    assert emulator.count("chat") == 3 * CALLS


def test_child_forked_while_another_thread_holds_the_pool_lock_can_still_call(emulator: Emulator) -> None:
    from b3n import _pools

    client = B3nClient(api_key="sk-test", base_url=emulator.base_url, max_retries=0, timeout=20)
    _pools.close_shared_clients()  # so the child has to create its pool, under the lock
    read_fd, write_fd = os.pipe()
    with _pools._pool_lock:  # a parent thread is creating a pool at the moment of the fork
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_fd)
                os.write(write_fd, json.dumps([_ask(client, "child", 0)]).encode())
            finally:
                os._exit(0)
    os.close(write_fd)
    [(expected, got)] = _read_child(read_fd, pid, deadline=10.0)
    assert got == expected and emulator.count("chat") == 1

