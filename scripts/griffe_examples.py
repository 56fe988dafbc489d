"""griffe extensions for the API reference (mkdocs.yml loads them; not shipped in the wheel).

- ``ExampleSections``: our docstrings title their doctests ``Example:`` (or not at all). Google style knows
  ``Examples:`` (a section whose ``>>>`` lines render as code) but reads ``Example:`` as an admonition rendered as
  Markdown, where ``reply["choices"][0]`` would become a broken cross-reference. The title is renamed before griffe
  parses it.
- ``RuntimeSignatures``: a method decorated with ``arguments_of(builder)`` is written as ``def m(self, payload)``
  but called with the builder's arguments; its real signature is the one ``inspect.signature`` reports (the
  decorator sets ``__signature__``). Static analysis cannot see that, so these methods take their parameters from
  the imported object.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

_EXAMPLE_TITLE = re.compile(r"^(\s*)Examples?(?: \([^)]*\))?:[ \t]*$", flags=re.MULTILINE)
#: a doctest block that starts at the margin, under no section title.
_BARE_DOCTEST = re.compile(r"^(>>> .*\n(?:.+\n?)*)", flags=re.MULTILINE)
#: decorators whose methods get their signature from the runtime object.
_RUNTIME_SIGNATURE_DECORATORS = ("arguments_of",)


class ExampleSections(griffe.Extension):
    """Read ``Example:`` as the ``Examples:`` section."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is None:
            return
        text = _EXAMPLE_TITLE.sub(r"\1Examples:", obj.docstring.value)
        if "Examples:" not in text:
            text = _BARE_DOCTEST.sub(lambda m: "Examples:\n" + re.sub(r"^", "    ", m.group(1), flags=re.M), text, 1)
        obj.docstring.value = text


def _text(annotation: Any) -> str | None:
    if annotation is inspect.Parameter.empty:
        return None
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


class RuntimeSignatures(griffe.Extension):
    """Give ``arguments_of``-decorated methods the signature their callers use."""

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        if not any(str(d.value).split("(")[0].endswith(_RUNTIME_SIGNATURE_DECORATORS) for d in func.decorators):
            return
        owner: Any = importlib.import_module(func.module.path)
        for name in func.path[len(func.module.path) + 1 :].split("."):
            owner = getattr(owner, name)
        signature = inspect.signature(owner)
        func.parameters = griffe.Parameters(
            *(
                griffe.Parameter(
                    p.name,
                    annotation=_text(p.annotation),
                    kind=griffe.ParameterKind(p.kind.description),
                    default=None if p.default is inspect.Parameter.empty else repr(p.default),
                )
                for p in signature.parameters.values()
            )
        )
        returns = _text(signature.return_annotation)
        if returns is not None:
            func.returns = returns
