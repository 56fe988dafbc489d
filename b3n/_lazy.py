"""httpx, imported on first use rather than when ``b3n`` (or a facade) is imported, and without its CLI.

``import httpx`` costs ~0.25 s of CPU on a quiet machine where ``rich`` and ``click`` are installed, as they
often are: httpx then imports its command-line module (``httpx._main``) and with it rich, click and
pygments, about half of the cost. LangChain's and LlamaIndex's own imports do not need httpx, so an eager
import would be most of what ``from langchain_b3n import ChatB3n`` costs on top of the framework. Modules
that use httpx write ``from b3n._lazy import httpx`` and use it as usual; the real module is imported
(thread-safely) the first time an attribute is read, i.e. when the first client is built or the first
request sent. Annotations are strings (``from __future__ import annotations``) and never trigger it.

When we are the first to import httpx, its command-line module is left out: ``httpx.main`` (the
``httpx`` console command's entry point, which only its own process calls) becomes a stand-in that
imports the real ``httpx._main`` when it is called, so a program that does call it in-process gets the
real command line. ``import httpx._main`` afterwards imports the real module as usual. When httpx is
already imported, nothing changes. This takes ~0.1 s off the first request of a process (the first
request of a 20,000-text embedding job waits for it).

Example:
    >>> colorsys = LazyModule("colorsys")
    >>> colorsys
    <lazy module 'colorsys' (not imported yet)>
    >>> colorsys.rgb_to_hsv(1.0, 0.0, 0.0), colorsys
    ((0.0, 1.0, 1.0), <lazy module 'colorsys' (imported)>)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

_LOCK = threading.Lock()
#: what httpx's command line imports (when one is missing, httpx leaves its CLI out by itself).
_CLI_NEEDS = ("click", "rich", "pygments")


class LazyModule:
    """Stands for a module until an attribute is first read, then imports it (once) and delegates."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            with _LOCK:
                module = self._module or _import(self._name)
                self._module = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def _import(name: str) -> ModuleType:
    if name != "httpx" or "httpx" in sys.modules or not all(map(importlib.util.find_spec, _CLI_NEEDS)):
        return importlib.import_module(name)  # (without rich/click/pygments httpx skips its CLI by itself)
    sys.modules["httpx._main"] = _cli_stand_in()
    try:
        return importlib.import_module("httpx")
    finally:
        sys.modules.pop("httpx._main", None)  # the next `import httpx._main` loads the real one


def _cli_stand_in() -> ModuleType:
    """A module whose ``main`` imports the real ``httpx._main`` on call (for httpx's ``from ._main import main``)."""
    stand_in = ModuleType("httpx._main", "Stand-in for httpx's command line (see b3n._lazy).")

    def main(*args: Any, **kwargs: Any) -> Any:
        return importlib.import_module("httpx._main").main(*args, **kwargs)

    main.__qualname__ = main.__name__ = "main"
    stand_in.main = main  # type: ignore[attr-defined]
    return stand_in


if TYPE_CHECKING:
    import httpx as httpx
else:
    httpx = LazyModule("httpx")

__all__ = ["LazyModule", "httpx"]
