"""Shared fixtures: one emulator per test session on a free loopback port, reset per test."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from b3n import AsyncB3nClient, B3nClient
    from b3n.testing import Emulator

T = TypeVar("T")

#: a key in the one-api format; the emulator accepts any non-empty key.
TEST_KEY = "sk-test0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
TEST_ACCESS_TOKEN = "emu-access-token"


# A shell that starts a job in the background without job control (`cmd &` in a script) makes it ignore SIGINT,
# and an ignored signal stays ignored across exec: every emulator subprocess would then ignore the Ctrl-C
# (SIGINT) the command-line tests send it and hang. Tests that press Ctrl-C need it to be deliverable.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` starts at least three workers: most tests wait on loopback I/O, simulated latency or a subprocess,
    so even a 2-core machine keeps three busy. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return max(3, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@pytest.fixture(autouse=True, scope="session")
def _hermetic_env() -> Iterator[None]:
    """Tests never pick up a developer's real B3n credentials (live tests read them first)."""
    import tempfile

    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("B3N_")}
    os.environ.setdefault("LANGCHAIN_TRACING_V2", "false")
    saved_xdg = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory(prefix="b3n-cache-") as cache:  # never the user's `b3n probe` cache
        os.environ["B3N_CACHE_DIR"] = cache
        # subprocesses that drop every B3N_* variable (CLI, cookbook, README snippets) fall back to
        # platformdirs' cache dir: point that at the scratch directory too, so no test reads or writes
        # the real ~/.cache/b3n (a stale entry for a reused loopback port changes request counts).
        os.environ["XDG_CACHE_HOME"] = cache
        yield
        os.environ.pop("B3N_CACHE_DIR", None)
    if saved_xdg is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved_xdg
    os.environ.update(saved)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    from b3n.testing import Emulator

    with Emulator() as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The session emulator, reset before and after the test (quirks on, no latency, no faults)."""
    emu = emulator_server
    emu.reset()
    _defaults(emu)
    yield emu
    emu.reset()
    _defaults(emu)


def _defaults(emu: Emulator) -> None:
    emu.quirks = True
    emu.latency = 0.0
    emu.reply_chunks = None
    emu.prose_unless_forced = False
    emu.strict = True


@pytest.fixture
def base_url(emulator: Emulator) -> str:
    return emulator.base_url


@pytest.fixture
def api_key() -> str:
    return TEST_KEY


@pytest.fixture
def client(base_url: str, api_key: str) -> B3nClient:
    """A :class:`~b3n.B3nClient` on the reset emulator (default settings: two retries)."""
    from b3n import B3nClient

    return B3nClient(api_key=api_key, base_url=base_url)


@pytest.fixture
def aclient(base_url: str, api_key: str) -> AsyncB3nClient:
    """An :class:`~b3n.AsyncB3nClient` on the reset emulator (default settings: two retries)."""
    from b3n import AsyncB3nClient

    return AsyncB3nClient(api_key=api_key, base_url=base_url)


@dataclass
class Peak:
    """The most requests the emulator had in flight at once while a :func:`sample_peak` block ran."""

    peak: int = 0


@contextlib.contextmanager
def sample_peak(emulator: Emulator) -> Iterator[Peak]:
    """``with sample_peak(emulator) as seen:`` samples ``emulator.active_requests`` every 2 ms on a thread."""
    seen, stop = Peak(), threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.peak = max(seen.peak, emulator.active_requests)
            time.sleep(0.002)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def finish_within(seconds: float, call: Callable[[], T]) -> tuple[T, float]:
    """``call()`` on a thread, and its wall time; fails (instead of hanging the suite) when it runs past ``seconds``.

    An exception ``call`` raises is raised here, for ``pytest.raises`` around it.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"], time.monotonic() - started


RELAY_PROFILES = ("docs", "one-api", "new-api-2412", "new-api")


@contextlib.contextmanager
def relay_fleet(**settings: Any) -> Iterator[dict[str, Emulator]]:
    """One emulator per relay profile of :data:`RELAY_PROFILES`, each started with ``settings``, for the block."""
    from b3n.testing import Emulator

    servers = {name: Emulator(relay=name, **settings).start() for name in RELAY_PROFILES}
    try:
        yield servers
    finally:
        for emu in servers.values():
            emu.stop()


@pytest.fixture(scope="session")
def relay_servers() -> Iterator[dict[str, Emulator]]:
    """One emulator per relay profile (``docs``, ``one-api``, ``new-api-2412``, ``new-api``) for the session."""
    with relay_fleet() as servers:
        yield servers


#: the only key :func:`native_relay` accepts (a stray or missing key gets the relay's 401).
NATIVE_KEY = "sk-native-0123456789"


@pytest.fixture(scope="session")
def native_relay() -> Iterator[Emulator]:
    """A new-api emulator (it serves Claude's native ``/v1/messages``) that accepts only :data:`NATIVE_KEY`."""
    from b3n.testing import Emulator

    with Emulator(relay="new-api", api_key=NATIVE_KEY) as emu:
        yield emu


@pytest.fixture
def native_emulator(native_relay: Emulator) -> Iterator[Emulator]:
    """:func:`native_relay` reset before and after the test, serving again the native routes it started with."""
    routes = set(native_relay.native_routes)
    native_relay.reset()
    yield native_relay
    native_relay.reset()
    native_relay.native_routes = set(routes)
