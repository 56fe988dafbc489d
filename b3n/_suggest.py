"""Did-you-mean hints for misspelt argument and model names, and warnings that point at the caller's line.

Both frameworks' classes use these, so a typo reads the same everywhere:

- :func:`did_you_mean` / :func:`closest`: the nearest valid name (``difflib``), for error and warning text;
- :func:`unknown_argument_error`: the typed error for an argument a class or call does not take;
- :func:`model_name_hint`: the one-line hint for a model name the catalog does not know (it is still sent:
  relays add models all the time);
- :func:`warn_at_caller`: a warning whose location is the user's line, however deep in this package,
  pydantic or the framework it was raised.

Example:
    >>> did_you_mean("temprature", ["temperature", "top_p", "max_tokens"])
    " Did you mean 'temperature'?"
    >>> str(unknown_argument_error("max_token", ["max_tokens", "temperature"], where="ChatB3n"))
    "ChatB3n got an unknown argument 'max_token'. Did you mean 'max_tokens'?"
    >>> model_name_hint("gpt-4o-mni", "chat")
    "Model 'gpt-4o-mni' is not in the B3n catalog; it is sent as written. Did you mean 'gpt-4o-mini'?"
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable

from b3n._errors import B3nInvalidRequestError, B3nUnknownModelWarning

#: packages whose frames are skipped when a warning looks for the user's line.
_INTERNAL_PACKAGES = (
    "b3n", "langchain_b3n", "llama_index_b3n", "pydantic", "pydantic_core", "langchain_core", "langchain",
    "langgraph", "llama_index", "typing_extensions",
)


def _package_dirs() -> tuple[str, ...]:
    dirs: list[str] = []
    for name in _INTERNAL_PACKAGES:
        module = sys.modules.get(name)
        paths = getattr(module, "__path__", None) if module is not None else None
        for path in paths or ():
            dirs.append(os.path.join(os.path.abspath(path), ""))
    return tuple(dirs)


def closest(name: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The candidate most like ``name`` (case-insensitive), or None when none is close.

    Example:
        >>> closest("dimension", ["dimensions", "model"]), closest("zzz", ["model"])
        ('dimensions', None)
    """
    import difflib  # deferred: `import b3n` stays cheap

    pool = {c.lower(): c for c in candidates if c != name}
    found = difflib.get_close_matches(name.lower(), list(pool), n=1, cutoff=cutoff)
    return pool[found[0]] if found else None


#: how alike a credential-like name must be to a valid argument to be taken for its misspelling (``max_token``).
TYPO_CUTOFF = 0.85


def did_you_mean(name: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str:
    """``" Did you mean 'x'?"`` for the closest candidate, else an empty string."""
    match = closest(name, candidates, cutoff=cutoff)
    return f" Did you mean {match!r}?" if match else ""


def unknown_argument_error(
    name: str, candidates: Iterable[str], *, where: str, extra_hint: str = "", cutoff: float = 0.6
) -> B3nInvalidRequestError:
    """The typed error for an argument ``where`` does not take: names it, suggests the closest valid name."""
    hint = f" {extra_hint}" if extra_hint else ""
    return B3nInvalidRequestError(
        f"{where} got an unknown argument {name!r}.{did_you_mean(name, candidates, cutoff=cutoff)}{hint}"
    )


def model_name_hint(model: str, kind: str) -> str | None:
    """The warning text for a ``kind`` model name the catalog does not know (None when it knows it)."""
    from b3n._catalog import MODELS

    if model in MODELS:
        return None
    names = [m.name for m in MODELS.values() if m.kind == kind]
    return f"Model {model!r} is not in the B3n catalog; it is sent as written.{did_you_mean(model, names)}"


def warn_unknown_model(model: str, kind: str) -> None:
    """One :class:`~b3n.B3nUnknownModelWarning` at the caller's line when the catalog does not know ``model``."""
    hint = model_name_hint(model, kind)
    if hint is not None:
        warn_at_caller(hint, B3nUnknownModelWarning)


def warn_at_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` at the first frame outside this package, the adapters, pydantic and the frameworks."""
    internal = _package_dirs()
    frame = sys._getframe(1)
    level = 2
    while frame is not None and frame.f_back is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(internal) and not filename.startswith("<frozen"):
            break
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


__all__ = ["TYPO_CUTOFF", "closest", "did_you_mean", "model_name_hint", "unknown_argument_error", "warn_at_caller",
           "warn_unknown_model"]
