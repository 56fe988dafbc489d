"""Signature helpers: a method that takes a pure builder's arguments, declared once for both twins.

Public methods with many typed keyword arguments (speech, images, transcription, embeddings, the transport's
``request``) declare them on the pure request builder; the blocking method and its asyncio twin take them with
:func:`arguments_of`, so type checkers, IDEs and ``inspect.signature`` see every keyword.
"""

from __future__ import annotations

import functools
import inspect
import os
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T")


def arguments_of(builder: Callable[P, T]) -> Callable[[Callable[[S, T], R]], Callable[Concatenate[S, P], R]]:
    """Decorator: the method takes ``builder``'s arguments and receives what ``builder`` makes of them.

    The arguments (names, ``Literal`` types, defaults) are so declared once, on the builder, for a
    blocking method and its asyncio twin alike: mypy and IDEs see every keyword, and
    ``inspect.signature`` shows them. A method without a docstring shows the builder's. The
    builder runs when the method is called (for an ``async def``, when it is awaited), so bad input
    is refused before anything is sent.

    Example:
        >>> import inspect
        >>> def greeting(name: str, *, loud: bool = False) -> str:
        ...     "Greet someone."
        ...     return name.upper() if loud else name
        >>> class Greeter:
        ...     @arguments_of(greeting)
        ...     def hello(self, name: str) -> str:
        ...         return "hello " + name
        >>> Greeter().hello("ann", loud=True), list(inspect.signature(Greeter.hello).parameters)
        ('hello ANN', ['self', 'name', 'loud'])
        >>> Greeter.hello.__doc__
        'Greet someone.'
    """

    def decorate(method: Callable[[S, T], R]) -> Callable[Concatenate[S, P], R]:
        async def acall(self: S, *args: P.args, **kwargs: P.kwargs) -> Any:
            return await method(self, builder(*args, **kwargs))  # type: ignore[misc]

        def call(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
            return method(self, builder(*args, **kwargs))

        chosen = acall if inspect.iscoroutinefunction(method) else call
        # the method's module globals: doctest (which asks a function's globals where it comes from) then runs
        # the examples of the method's docstring with that module's
        wrapper: Any = types.FunctionType(
            chosen.__code__, method.__globals__, method.__name__, chosen.__defaults__, chosen.__closure__
        )
        functools.update_wrapper(wrapper, method)
        del wrapper.__wrapped__  # inspect.signature reads __signature__, not the method's (self, built)
        wrapper.__doc__ = method.__doc__ or builder.__doc__
        own = inspect.signature(builder)
        self_parameter = next(iter(inspect.signature(method).parameters.values()))
        wrapper.__signature__ = own.replace(
            parameters=[self_parameter, *own.parameters.values()],
            return_annotation=inspect.signature(method).return_annotation,
        )
        return wrapper  # type: ignore[no-any-return]

    return decorate


def path_first(builder: Callable[P, T]) -> Callable[Concatenate[str | os.PathLike[str], P], tuple[Path, T]]:
    """``builder`` with a leading ``path`` (for the ``*_to_file`` methods): returns ``(Path(path), built)``.

    Example:
        >>> import inspect
        >>> def greeting(name: str) -> str:
        ...     return "hi " + name
        >>> path, built = path_first(greeting)("out.txt", "ann")
        >>> path.name, built, list(inspect.signature(path_first(greeting)).parameters)
        ('out.txt', 'hi ann', ['path', 'name'])
    """

    def call(path: str | os.PathLike[str], *args: P.args, **kwargs: P.kwargs) -> tuple[Path, T]:
        return Path(path), builder(*args, **kwargs)

    own = inspect.signature(builder)
    leading = inspect.Parameter("path", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str | os.PathLike[str]")
    call.__signature__ = own.replace(parameters=[leading, *own.parameters.values()])  # type: ignore[attr-defined]
    call.__doc__ = builder.__doc__
    return call  # type: ignore[return-value]  # mypy sees ``path`` positional-only; it is also a keyword
