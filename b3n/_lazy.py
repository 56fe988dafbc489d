"""httpx, imported on first use rather than when ``b3n`` (or a facade) is imported.

``import httpx`` costs ~0.1 s on a quiet machine where ``rich`` and ``click`` are installed, as they often
are: httpx then imports its command-line module (``httpx._main``) and with it rich, click and pygments.
LangChain's and LlamaIndex's own imports do not need httpx, so an eager import would be most of what
``from langchain_b3n import ChatB3n`` costs on top of the framework. Modules that use httpx write
``from b3n._lazy import httpx`` and use it as usual; the real module is imported (thread-safely, by the
import system) the first time an attribute is read, i.e. when the first client is built or the first
request sent. Annotations are strings (``from __future__ import annotations``) and never trigger it.

Example:
    >>> colorsys = LazyModule("colorsys")
    >>> colorsys
    <lazy module 'colorsys' (not imported yet)>
    >>> colorsys.rgb_to_hsv(1.0, 0.0, 0.0), colorsys
    ((0.0, 1.0, 1.0), <lazy module 'colorsys' (imported)>)
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any


class LazyModule:
    """Stands for a module until an attribute is first read, then imports it (once) and delegates."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)  # the import lock makes this thread-safe
            self._module = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


if TYPE_CHECKING:
    import httpx as httpx
else:
    httpx = LazyModule("httpx")

__all__ = ["LazyModule", "httpx"]
