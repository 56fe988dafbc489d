"""Shared set-up of the cookbook: talk to the real B3n when ``B3N_API_KEY`` is set, else to the bundled emulator.

Every cookbook script starts with::

    from _setup import connect
    b3n = connect()          # prints where it is talking to
    base_url, api_key = b3n.base_url, b3n.api_key

Offline (no ``B3N_API_KEY``) an in-process :class:`b3n.testing.Emulator` is started on a free
loopback port and stopped when the script ends; it is a deterministic scripted model, so the
answers are stable but not "intelligent". With a key, the real relay is used (``B3N_BASE_URL`` or
``https://api.b3n.fun/v1``); the account examples then also need ``B3N_ACCESS_TOKEN`` and
``B3N_USER_ID``.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: the extra that installs each optional package a cookbook script imports (the `cookbook` extra has them all).
EXTRA_FOR_MODULE = {
    "langchain_core": "langchain",
    "llama_index": "llama-index",
    "langchain": "cookbook",
    "langgraph": "cookbook",
    "tqdm": "test",
    "ray": "ray",
    "numpy": "numpy",
}
#: extras that the `cookbook` extra does not include (heavy; only the script that needs one asks for it).
OWN_EXTRAS = frozenset({"ray", "numpy"})
#: the package's own dependencies: a plain ``pip install -e .`` brings them.
_CORE_MODULES = frozenset({"b3n", "langchain_b3n", "llama_index_b3n", "httpx", "httpx_sse", "pydantic"})


def missing_dependency_message(module: str, script: str) -> str:
    """One line for a script that stopped because ``module`` is not installed: which extra to install."""
    top = module.split(".")[0]
    if top in _CORE_MODULES:
        return (f"{script} needs {top!r}, which is not installed: install the package first, from the repository "
                'root: pip install -e ".[cookbook]"')
    extra = EXTRA_FOR_MODULE.get(top, "cookbook")
    if extra in OWN_EXTRAS:
        return (f"{script} needs the {top!r} package (the {extra!r} extra), which is not installed: "
                f'pip install -e ".[{extra}]"  (or: pip install "b3n-integrations[{extra}]")')
    return (f"{script} needs the {top!r} package (the {extra!r} extra), which is not installed. Every cookbook "
            'script runs after: pip install -e ".[cookbook]"  (or: pip install "b3n-integrations[cookbook]")')


def _explain_missing_dependency(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
    name = getattr(exc, "name", None)
    if issubclass(kind, ModuleNotFoundError) and isinstance(name, str) and name:
        sys.stderr.write(missing_dependency_message(name, Path(sys.argv[0]).name or "this script") + "\n")
        return
    sys.__excepthook__(kind, exc, tb)


# A script run from the command line that misses an optional dependency says which extra to install,
# instead of a traceback (the interpreter still exits with status 1).
sys.excepthook = _explain_missing_dependency

try:
    import b3n  # noqa: F401
except ImportError:  # a source checkout that was not pip-installed: use the packages next to cookbook/
    _ROOT = Path(__file__).resolve().parent.parent
    if (_ROOT / "b3n").is_dir():
        sys.path.insert(0, str(_ROOT))

from b3n import DEFAULT_BASE_URL

#: the emulator accepts any non-empty key; this one has the one-api shape.
OFFLINE_KEY = "sk-cookbook0000000000000000000000000000000000000000"
#: the emulator's system access token and user id for ``/api/user/self``.
OFFLINE_ACCESS_TOKEN = "emu-access-token"
OFFLINE_USER_ID = 1


@dataclass
class Connection:
    """Where the cookbook talks to. Unpacks as ``base_url, api_key, cleanup``."""

    base_url: str
    api_key: str
    cleanup: Callable[[], None]
    offline: bool
    access_token: str | None = None
    user_id: int | str | None = None
    emulator: Any = field(default=None, repr=False)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.base_url, self.api_key, self.cleanup))

    def __repr__(self) -> str:  # never show the key
        return f"Connection(base_url={self.base_url!r}, offline={self.offline})"


def connect(*, quiet: bool = False) -> Connection:
    """Pick the real B3n (``B3N_API_KEY`` set) or start the bundled emulator; print which one."""
    key = os.environ.get("B3N_API_KEY", "").strip()
    if key:
        base_url = os.environ.get("B3N_BASE_URL", "").strip() or DEFAULT_BASE_URL
        if not quiet:
            print(f"B3N_API_KEY is set: talking to the real B3n at {base_url}")
        token = os.environ.get("B3N_ACCESS_TOKEN", "").strip() or None
        user_id = os.environ.get("B3N_USER_ID", "").strip() or None
        return Connection(base_url, key, lambda: None, offline=False, access_token=token, user_id=user_id)

    from b3n.testing import Emulator

    emulator = Emulator(access_token=OFFLINE_ACCESS_TOKEN, user_id=OFFLINE_USER_ID)
    emulator.start()
    stopped = False

    def cleanup() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            emulator.stop()

    atexit.register(cleanup)
    if not quiet:
        print(f"No B3N_API_KEY set: running offline against the bundled B3n emulator at {emulator.base_url}")
    return Connection(emulator.base_url, OFFLINE_KEY, cleanup, offline=True,
                      access_token=OFFLINE_ACCESS_TOKEN, user_id=OFFLINE_USER_ID, emulator=emulator)


def heading(title: str) -> None:
    """Print a section title, so the output reads like the notebook."""
    print(f"\n=== {title} ===")
