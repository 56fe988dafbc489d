"""griffe extensions for the API reference (mkdocs.yml loads them; not shipped in the wheel).

- ``ExampleSections``: our docstrings title their doctests ``Example:`` (or not at all). Google style knows
  ``Examples:`` (a section whose ``>>>`` lines render as code) but reads ``Example:`` as an admonition rendered as
  Markdown, where ``reply["choices"][0]`` would become a broken cross-reference. The title is renamed before griffe
  parses it.
- ``RuntimeSignatures``: a method decorated with ``arguments_of(builder)`` is written as ``def m(self, payload)``
  but called with the builder's arguments; its real signature is the one ``inspect.signature`` reports (the
  decorator sets ``__signature__``). Static analysis cannot see that, so these methods take their parameters from
  the imported object. Likewise a pydantic model without an ``__init__`` of its own (``ChatB3n``) is built from its
  fields, under their aliases (``model=``): it gets the constructor signature pydantic reports.
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


def _default(value: Any) -> str:
    """The default as source text; an object without one (pydantic's ``<factory>``) shows as ``...``."""
    text = repr(value)
    return "..." if text.startswith("<") else text


def _parameters(signature: inspect.Signature, *leading: griffe.Parameter) -> griffe.Parameters:
    return griffe.Parameters(
        *leading,
        *(
            griffe.Parameter(
                p.name,
                annotation=_text(p.annotation),
                kind=griffe.ParameterKind(p.kind.description),
                default=None if p.default is inspect.Parameter.empty else _default(p.default),
            )
            for p in signature.parameters.values()
        )
    )


def _runtime(obj: griffe.Object) -> Any:
    value: Any = importlib.import_module(obj.module.path)
    for name in obj.path[len(obj.module.path) + 1 :].split("."):
        value = getattr(value, name)
    return value


class RuntimeSignatures(griffe.Extension):
    """Give ``arguments_of``-decorated methods and pydantic models the signature their callers use."""

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        if not cls.path.startswith(("b3n.", "langchain_b3n.", "llama_index_b3n.")):
            return
        member = cls.members.get("__init__")
        init = member if isinstance(member, griffe.Function) else None
        if init is not None and [p.kind for p in init.parameters][1:] != [griffe.ParameterKind.var_keyword]:
            return  # an __init__ with real parameters of its own: the source says it all
        runtime = _runtime(cls)
        if not any(base.__name__ == "BaseModel" and base.__module__.startswith("pydantic") for base in runtime.__mro__):
            return
        self_ = griffe.Parameter("self", kind=griffe.ParameterKind("positional or keyword"))
        parameters = _parameters(inspect.signature(runtime), self_)
        if init is not None:
            init.parameters = parameters  # ``def __init__(self, **data)``: the fields are the real parameters
        else:
            cls.set_member("__init__", griffe.Function("__init__", parameters=parameters))

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        if not any(str(d.value).split("(")[0].endswith(_RUNTIME_SIGNATURE_DECORATORS) for d in func.decorators):
            return
        signature = inspect.signature(_runtime(func))
        func.parameters = _parameters(signature)
        returns = _text(signature.return_annotation)
        if returns is not None:
            func.returns = returns
