"""What images, speech and transcription share: argument checks and writing files atomically.

Every limit the API enforces is checked before anything is sent, with a
``B3nInvalidRequestError`` that says what to change.

Example:
    >>> require_one_of("voice", "nova", ("alloy", "nova"))
    'nova'
    >>> merge_extra({"model": "tts-1"}, {"seed": 1})
    {'model': 'tts-1', 'seed': 1}
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from b3n._catalog import Kind, get_model_info
from b3n._errors import B3nInvalidRequestError


def require_one_of(name: str, value: object, allowed: Sequence[str]) -> str:
    """``value`` if it is one of ``allowed``, else a ``B3nInvalidRequestError`` listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise B3nInvalidRequestError(
            f"{name}={value!r} is not supported; use one of {', '.join(map(repr, allowed))}."
        )
    return value


def require_model_kind(model: object, kind: Kind, what: str, examples: str) -> str:
    """``model`` if it is a name that can do ``what`` (catalogued models of another kind are refused)."""
    if not isinstance(model, str) or not model.strip():
        raise B3nInvalidRequestError(f"model must be a non-empty model name for {what}, e.g. {examples}.")
    info = get_model_info(model)
    if info.known and info.kind != kind:
        raise B3nInvalidRequestError(
            f"Model {model!r} cannot be used for {what} (it is a {info.kind} model); use {examples}."
        )
    return model


def merge_extra(payload: dict[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """Add ``extra`` fields to ``payload``; refuse ones that repeat a named argument."""
    if extra:
        clash = sorted(set(extra) & set(payload))
        if clash:
            raise B3nInvalidRequestError(f"extra={{...}} repeats {clash}; pass those as named arguments instead.")
        payload.update(extra)
    return payload


def part_file(target: Path) -> Path:
    """A hidden temporary name next to ``target`` (renamed over it once complete)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")


@contextmanager
def written_atomically(target: Path) -> Iterator[BinaryIO]:
    """A file for ``target``'s bytes: renamed over ``target`` when the block ends, removed if it fails.

    So a failure (or a broken download) never leaves half a file under ``target``'s name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    part = part_file(target)
    try:
        with part.open("wb") as out:
            yield out
        os.replace(part, target)
    finally:
        if part.exists():
            part.unlink()


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` next to ``path`` then rename, so a failure never leaves half a file."""
    with written_atomically(path) as out:
        out.write(data)
    return path
