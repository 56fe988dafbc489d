"""The probe cache file is shared state on disk: nothing found at its path stalls, breaks or leaks a call.

A FIFO, a deep or huge file, or an expired entry means "no probe" (plus one warning); concurrent ``b3n probe``
writers lose no entry; the folder b3n creates is 0700 and the file 0600.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from b3n import B3nClient
from b3n._chat import relay
from b3n._errors import B3nRelayDataWarning
from b3n._probe import probe
from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from tests.langchain_tools import Joke

MODEL = "claude-3-5-sonnet-latest"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("B3N_CACHE_DIR", str(folder))  # the probe cache of this test only
    relay.MEMORY.forget()
    return folder


def _structured_call(emu: Emulator, api_key: str) -> tuple[Any, list[warnings.WarningMessage], float]:
    """A structured-output call that reads the probe cache; its result, its warnings and its wall time."""
    emu.reset()
    relay.MEMORY.forget()
    # the OpenAI-format route, whose relay adaptations the cache records (a probe of new-api also finds its native
    # /v1/messages route, which api_format="auto" would take instead)
    llm = ChatB3n(model=MODEL, api_key=api_key, base_url=emu.base_url, timeout=10, api_format="openai")
    box: dict[str, Any] = {}

    def call() -> None:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            box["joke"] = llm.with_structured_output(Joke).invoke("Tell me a joke about cats")
        box["warnings"] = [w for w in seen if issubclass(w.category, B3nRelayDataWarning)]

    started = time.monotonic()
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(15)
    assert not thread.is_alive(), "the call is stuck on the probe cache"
    return box["joke"], box["warnings"], time.monotonic() - started


def _probed(emu: Emulator, api_key: str) -> Path:
    probe(B3nClient(api_key=api_key, base_url=emu.base_url), [MODEL])
    return Path(os.environ["B3N_CACHE_DIR"]) / "relay-probe.json"


def test_a_fresh_probe_is_used_up_front(relay_servers: dict[str, Emulator], api_key: str, cache_dir: Path) -> None:
    emu = relay_servers["new-api"]
    _probed(emu, api_key)
    joke, seen, _ = _structured_call(emu, api_key)
    assert joke.punchline == "To keep an eye on the mouse."
    assert emu.count("chat") == 1 and not seen  # the JSON asked for directly


def test_a_fifo_at_the_cache_path_never_blocks_a_call(
    relay_servers: dict[str, Emulator], api_key: str, cache_dir: Path
) -> None:
    emu = relay_servers["new-api"]
    cache_dir.mkdir()
    os.mkfifo(cache_dir / "relay-probe.json")  # opening it for reading would wait for a writer forever
    joke, seen, took = _structured_call(emu, api_key)
    assert joke.punchline == "To keep an eye on the mouse."
    assert took < 5 and emu.count("chat") == 2  # as without a probe: the ignored tool_choice, then the JSON
    assert len(seen) == 1 and "not a regular file" in str(seen[0].message)


@pytest.mark.parametrize("poison", ["deep", "huge", "not_json", "array", "bad_entry", "symlink"])
def test_a_poisoned_cache_file_falls_back_to_probing_defaults(
    relay_servers: dict[str, Emulator], api_key: str, cache_dir: Path, poison: str
) -> None:
    emu = relay_servers["new-api"]
    path = _probed(emu, api_key)
    good = json.loads(path.read_text())
    if poison == "deep":
        text = '{"x": ' + "[" * 5000 + "]" * 5000 + ", " + json.dumps(good)[1:]
    elif poison == "huge":
        text = json.dumps({**good, "padding": "x" * (2 * 1024 * 1024)})
    elif poison == "not_json":
        text = json.dumps(good)[:-5] + "\x00\xff"
    elif poison == "array":
        text = json.dumps([good])
    elif poison == "bad_entry":
        text = json.dumps({url: {"families": "claude", "time": "yesterday"} for url in good})
    else:  # a good file, but reached through a symlink someone planted at the cache path
        target = path.with_name("elsewhere.json")
        path.rename(target)
        path.symlink_to(target)
    if poison != "symlink":
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
    joke, seen, _ = _structured_call(emu, api_key)
    assert joke.punchline == "To keep an eye on the mouse."
    assert emu.count("chat") == 2  # the poisoned file is not used
    assert len(seen) == (0 if poison == "bad_entry" else 1)


def test_an_entry_older_than_30_days_is_not_used(
    relay_servers: dict[str, Emulator], api_key: str, cache_dir: Path
) -> None:
    emu = relay_servers["new-api"]
    path = _probed(emu, api_key)
    data = json.loads(path.read_text())
    for entry in data.values():
        entry["time"] -= 31 * 86400
    path.write_text(json.dumps(data))
    joke, _, _ = _structured_call(emu, api_key)
    assert joke.punchline == "To keep an eye on the mouse."
    assert emu.count("chat") == 2  # the relay may have changed in a month: as without a probe
    for entry in data.values():
        entry["time"] += 2 * 86400  # 29 days old: still used
    path.write_text(json.dumps(data))
    _structured_call(emu, api_key)
    assert emu.count("chat") == 1


_WRITER = """
import sys
from b3n._probe_cache import save_probe
name, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    save_probe(f"http://relay-{name}-{i}.invalid/v1", {"claude": {"tool_choice": i % 2 == 0}})
"""


def test_concurrent_writers_lose_no_entry(cache_dir: Path) -> None:
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, name, "25"], env={**os.environ,
                                "PYTHONPATH": os.pathsep.join(sys.path)}) for name in ("a", "b", "c")]
    for writer in writers:
        assert writer.wait(60) == 0
    data = json.loads((cache_dir / "relay-probe.json").read_text())
    assert sorted(data) == sorted(f"http://relay-{n}-{i}.invalid/v1" for n in "abc" for i in range(25))
    assert not [p.name for p in cache_dir.iterdir() if p.name.startswith(".probe-")]  # no temporary file left


def test_the_cache_folder_and_file_are_private(relay_servers: dict[str, Emulator], api_key: str,
                                               cache_dir: Path) -> None:
    path = _probed(relay_servers["new-api"], api_key)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
