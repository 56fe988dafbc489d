"""Where ``b3n probe`` keeps what it found out about a relay, and how the chat services read it.

One JSON file in the user's cache directory (``platformdirs.user_cache_dir("b3n")/relay-probe.json``,
or ``$B3N_CACHE_DIR``), keyed by base URL, then model family, then behaviour name (True: the relay
does it as OpenAI does; False: it does not). ``B3N_PROBE_CACHE=off`` makes the clients ignore it.

Example:
    >>> import os, tempfile
    >>> saved = os.environ.get("B3N_CACHE_DIR")
    >>> os.environ["B3N_CACHE_DIR"] = tempfile.mkdtemp()  # a scratch cache, not yours
    >>> _ = save_probe("http://127.0.0.1:9/v1", {"gemini": {"tool_result_turns": False}})
    >>> known_behaviour("http://127.0.0.1:9/v1", "gemini-1.5-flash-latest", "gemini_text_tool_history")
    True
    >>> if saved is None: del os.environ["B3N_CACHE_DIR"]
    ... else: os.environ["B3N_CACHE_DIR"] = saved
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ENV_DIR = "B3N_CACHE_DIR"
ENV_SWITCH = "B3N_PROBE_CACHE"
FILE_NAME = "relay-probe.json"

#: adaptation name → (family, probe behaviour whose False value calls for it)
ADAPTATIONS: dict[str, tuple[str, str]] = {
    "gemini_text_tool_history": ("gemini", "tool_result_turns"),
    "gemini_stream_tool_calls_dropped": ("gemini", "stream_tool_calls"),
    "gemini_json_mode_ignored": ("gemini", "response_format"),
    "claude_tool_choice_ignored": ("claude", "tool_choice"),
    "gemini_tool_choice_ignored": ("gemini", "tool_choice"),
}

_lock = threading.Lock()
_loaded: dict[str, Any] | None = None
_loaded_from: tuple[str, float] | None = None


def cache_path() -> Path:
    """The probe cache file (the directory may not exist yet)."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override) / FILE_NAME
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("b3n", appauthor=False)) / FILE_NAME


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "on").strip().lower() not in ("0", "off", "false", "no")


def _read() -> dict[str, Any]:
    global _loaded, _loaded_from
    path = cache_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    with _lock:
        if _loaded is not None and _loaded_from == (str(path), mtime):
            return _loaded
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        _loaded, _loaded_from = (data if isinstance(data, dict) else {}), (str(path), mtime)
        return _loaded


def load_probe(base_url: str) -> dict[str, dict[str, bool]] | None:
    """The cached findings for ``base_url`` (family → behaviour → bool), or None."""
    entry = _read().get(base_url.rstrip("/"))
    families = entry.get("families") if isinstance(entry, dict) else None
    return families if isinstance(families, dict) else None


def save_probe(base_url: str, families: dict[str, dict[str, bool]]) -> Path:
    """Store findings for ``base_url`` (atomically; other base URLs are kept)."""
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(_read())
    data[base_url.rstrip("/")] = {"families": families, "time": int(time.time())}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".probe-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)
    return path


def known_behaviour(base_url: str, model: str, adaptation: str) -> bool:
    """Whether the probe cache says ``adaptation`` is needed for ``model`` at ``base_url``."""
    if adaptation not in ADAPTATIONS or not enabled():
        return False
    family, behaviour = ADAPTATIONS[adaptation]
    from b3n._chat.relay import family as family_of

    if family_of(model) != family:
        return False
    families = load_probe(base_url)
    if not families:
        return False
    found = families.get(family, {})
    return isinstance(found, dict) and found.get(behaviour) is False
