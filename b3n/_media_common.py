"""What images, speech and transcription share: argument checks, the private output folder, atomic writes.

Files are written privately: the default output folder (:func:`default_output_dir`) is a folder of the
user's own, created ``0700``; folders created on the way to a path you give are ``0700`` too, and every
file written is ``0600`` (``chmod`` it afterwards to share it).

Every limit the API enforces is checked before anything is sent, with a
``B3nInvalidRequestError`` that says what to change.

Example:
    >>> require_one_of("voice", "nova", ("alloy", "nova"))
    'nova'
    >>> merge_extra({"model": "tts-1"}, {"seed": 1})
    {'model': 'tts-1', 'seed': 1}
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO

from b3n._catalog import Kind, get_model_info
from b3n._errors import B3nInvalidRequestError

logger = logging.getLogger("b3n")

#: the mode of every file written (owner read/write only).
FILE_MODE = 0o600
#: the mode of every folder created (owner only).
DIR_MODE = 0o700
_lock = threading.Lock()
_chosen: Path | None = None


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


def _private(path: Path) -> bool:
    """Whether ``path`` is a real directory (not a symlink) of this user that nobody else can enter or list."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: a folder under the user's own profile
        return True
    if info.st_uid != getuid():
        return False
    if info.st_mode & 0o077:
        os.chmod(path, DIR_MODE, follow_symlinks=False)  # ours, but too open (an older version made it 0755)
    return True


def _user_media_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("b3n", appauthor=False)) / "media"


def default_output_dir() -> Path:
    """The folder the media tools write to when given none: private to the user, created ``0700``.

    It is ``media`` in the user's cache folder (``~/.cache/b3n/media`` on Linux, from ``platformdirs``). If
    something else is already there (a symlink, a file, a folder of another user) it is not used: a new
    private folder from :func:`tempfile.mkdtemp` is used instead, for the rest of the process, and a
    warning says so. The same folder is returned for the whole process, so a speech-to-text tool can
    read what a text-to-speech tool wrote.

    Example:
        >>> import os, stat
        >>> folder = default_output_dir()
        >>> folder.is_dir(), oct(stat.S_IMODE(os.stat(folder).st_mode)) if os.name == "posix" else "0o700"
        (True, '0o700')
    """
    global _chosen
    with _lock:
        if _chosen is not None and _private(_chosen):
            return _chosen
        wanted = _user_media_dir()
        make_private_dirs(wanted.parent)
        try:
            os.mkdir(wanted, DIR_MODE)
        except FileExistsError:
            pass
        except OSError as exc:
            logger.warning("b3n: cannot create the media folder %s (%s); using a new private folder.", wanted, exc)
        if _private(wanted):
            _chosen = wanted
        else:
            _chosen = Path(tempfile.mkdtemp(prefix="b3n-media-"))
            logger.warning(
                "b3n: %s is not a private folder of this user (a symlink, a file, or someone else's); media files "
                "go to %s instead.", wanted, _chosen,
            )
        return _chosen


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents ``0700`` (existing folders are left as they are)."""
    missing = []
    for folder in (path, *path.parents):
        if os.path.lexists(folder):
            break
        missing.append(folder)
    for folder in reversed(missing):
        with suppress(FileExistsError):
            os.mkdir(folder, DIR_MODE)


def part_file(target: Path) -> Path:
    """A hidden temporary name next to ``target`` (renamed over it once complete)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")


def open_private(path: Path) -> BinaryIO:
    """A new file at ``path`` for writing, ``0600``, never following a symlink or reusing a file planted there."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    return os.fdopen(os.open(path, flags, FILE_MODE), "wb")


@contextmanager
def written_atomically(target: Path) -> Iterator[BinaryIO]:
    """A file for ``target``'s bytes: renamed over ``target`` when the block ends, removed if it fails.

    So a failure (or a broken download, or an interrupt) never leaves half a file under ``target``'s name,
    nor a ``.part`` file next to it. The file is ``0600``.
    """
    make_private_dirs(target.parent)
    part = part_file(target)
    try:
        with open_private(part) as out:
            yield out
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` next to ``path`` then rename, so a failure never leaves half a file."""
    with written_atomically(path) as out:
        out.write(data)
    return path
