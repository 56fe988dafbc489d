"""Where ``b3n probe`` keeps what it found out about a relay, and how the chat services read it.

One JSON file in the user's cache directory (``platformdirs.user_cache_dir("b3n")/relay-probe.json``,
or ``$B3N_CACHE_DIR``), keyed by base URL, then model family, then behaviour name (True: the relay
does it as OpenAI does; False: it does not). ``B3N_PROBE_CACHE=off`` makes the clients ignore it.

The file is shared state, so it is handled defensively:

- **reading** opens only a regular file (a FIFO, device or symlink at its path is ignored, never
  waited on), at most :data:`MAX_FILE_BYTES` and :data:`~b3n._json.MAX_DEPTH` levels deep; a file
  that is anything else warns once and counts as empty (the relay's quirks are then handled as they
  show up, as without a probe);
- **writing** takes a lock file next to it, reads, merges and replaces the file atomically, so
  concurrent ``b3n probe`` runs lose no entry; at most :data:`MAX_ENTRIES` relays are kept;
- **each entry** carries its date and is ignored (and dropped on the next write) after
  :data:`MAX_AGE_DAYS` days;
- the folder b3n creates is private (0700) and the file is 0600.

Example:
    >>> import os, tempfile
    >>> saved = os.environ.get("B3N_CACHE_DIR")
    >>> os.environ["B3N_CACHE_DIR"] = tempfile.mkdtemp()  # a scratch cache, not yours
    >>> _ = save_probe("http://127.0.0.1:9/v1", {"gemini": {"tool_result_turns": False}})
    >>> known_behaviour("http://127.0.0.1:9/v1", "gemini-1.5-flash-latest", Adaptation.GEMINI_TEXT_TOOL_HISTORY)
    True
    >>> if saved is None: del os.environ["B3N_CACHE_DIR"]
    ... else: os.environ["B3N_CACHE_DIR"] = saved
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from b3n._chat.relay import Adaptation
from b3n._chat.relay import family as family_of
from b3n._errors import B3nRelayDataWarning
from b3n._json import loads

ENV_DIR = "B3N_CACHE_DIR"
ENV_SWITCH = "B3N_PROBE_CACHE"
FILE_NAME = "relay-probe.json"
#: the largest probe cache file read (a relay's entry is ~300 bytes).
MAX_FILE_BYTES = 1024 * 1024
#: relays kept in the file (the most recently probed).
MAX_ENTRIES = 512
#: an entry older than this is ignored and dropped on the next write (the relay may have changed since).
MAX_AGE_DAYS = 30
#: the longest a writer waits for another writer's lock.
LOCK_TIMEOUT = 10.0


_lock = threading.Lock()
_loaded: dict[str, Any] | None = None
_loaded_from: tuple[str, int, int, int] | None = None
_warned: set[str] = set()


def cache_path() -> Path:
    """The probe cache file (the directory may not exist yet)."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override) / FILE_NAME
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("b3n", appauthor=False)) / FILE_NAME


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "on").strip().lower() not in ("0", "off", "false", "no")


def _warn_once(path: Path, why: str) -> None:
    key = f"{path}:{why}"
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn(
        f"The relay probe cache {path} {why}; it is ignored (relay quirks are handled as they show up). "
        "Run `b3n probe` again to rebuild it, or delete the file.",
        B3nRelayDataWarning,
        stacklevel=4,
    )


def _read_file(path: Path, *, cached: bool = True) -> tuple[dict[str, Any], tuple[str, int, int, int] | None]:
    """The file's entries (empty when absent or unusable) and its identity (path, inode, size, mtime).

    ``cached``: the entries last read, when the file looks unchanged (readers only; a writer always reads
    the file, as another process may have replaced it with one that looks the same).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return {}, None
    except OSError:  # a symlink (O_NOFOLLOW), no permission, ...
        _warn_once(path, "cannot be opened as a regular file")
        return {}, None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        identity = (str(path), info.st_ino, info.st_size, info.st_mtime_ns)
        if not stat.S_ISREG(info.st_mode):
            _warn_once(path, "is not a regular file")
            return {}, identity
        if cached and _loaded is not None and _loaded_from == identity:
            return _loaded, identity
        raw = fh.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        _warn_once(path, f"is larger than {MAX_FILE_BYTES} bytes")
        return {}, identity
    try:
        data = loads(raw)
    except ValueError:
        _warn_once(path, "is not valid JSON (or is nested too deeply)")
        return {}, identity
    if not isinstance(data, dict):
        _warn_once(path, "does not hold a JSON object")
        return {}, identity
    return data, identity


def _read() -> dict[str, Any]:
    global _loaded, _loaded_from
    path = cache_path()
    with _lock:
        data, identity = _read_file(path)
        _loaded, _loaded_from = data, identity
        return data


def _fresh(entry: Any, now: float) -> bool:
    """Whether a cache entry is well formed and younger than :data:`MAX_AGE_DAYS` (a future date is not)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("families"), dict):
        return False
    written = entry.get("time")
    if isinstance(written, bool) or not isinstance(written, int | float):
        return False
    return 0 <= now - written <= MAX_AGE_DAYS * 86400 + 300 and written <= now + 300


def load_probe(base_url: str) -> dict[str, dict[str, bool]] | None:
    """The cached findings for ``base_url`` (family → behaviour → bool), or None (none, or expired)."""
    entry = _read().get(base_url.rstrip("/"))
    if not isinstance(entry, dict) or not _fresh(entry, time.time()):
        return None
    families: dict[str, dict[str, bool]] = entry["families"]
    return families


def _private_dir(folder: Path) -> None:
    """Create ``folder`` 0700 (its parents as the umask says); an existing folder is left as it is."""
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            return
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask


@contextmanager
def _writer_lock(path: Path) -> Iterator[None]:
    """Hold the cache's lock file (other processes' writers wait, at most :data:`LOCK_TIMEOUT`)."""
    from filelock import FileLock

    lock_path = path.with_name(path.name + ".lock")
    with FileLock(str(lock_path), timeout=LOCK_TIMEOUT, mode=0o600):
        yield


def save_probe(base_url: str, families: dict[str, dict[str, bool]]) -> Path:
    """Store findings for ``base_url`` (other relays' fresh entries are kept; concurrent writers lose none)."""
    path = cache_path()
    _private_dir(path.parent)
    with _lock, _writer_lock(path):
        current, _ = _read_file(path, cached=False)
        now = time.time()
        data = {url: entry for url, entry in current.items() if _fresh(entry, now)}
        data.pop(base_url.rstrip("/"), None)
        data[base_url.rstrip("/")] = {"families": families, "time": int(now)}
        while len(data) > MAX_ENTRIES:  # the oldest entries go first
            del data[min(data, key=lambda url: data[url]["time"])]
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".probe-", suffix=".json")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
    return path


def known_behaviour(base_url: str, model: str, adaptation: Adaptation) -> bool:
    """Whether the probe cache says ``adaptation`` is needed for ``model`` at ``base_url``."""
    if not enabled():
        return False
    family, behaviour = adaptation.family, adaptation.behaviour
    if family_of(model) != family:
        return False
    families = load_probe(base_url)
    if not families:
        return False
    found = families.get(family, {})
    return isinstance(found, dict) and found.get(behaviour) is False


#: the native routes ``b3n probe`` looks for: family → the behaviour it records (True: the relay serves it).
NATIVE_ROUTES = {"claude": "native_messages", "gemini": "native_generate_content"}


def native_route_confirmed(base_url: str, model: str) -> bool:
    """Whether ``b3n probe`` found that the relay at ``base_url`` serves ``model``'s family natively."""
    from b3n._chat.relay import family as family_of

    behaviour = NATIVE_ROUTES.get(family_of(model))
    if behaviour is None or not enabled():
        return False
    found = (load_probe(base_url) or {}).get(family_of(model), {})
    return isinstance(found, dict) and found.get(behaviour) is True
