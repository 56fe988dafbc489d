"""Which local files an agent-facing tool may upload: audio files under one root directory.

A speech-to-text *tool* takes its file path from a model, so a prompt injection can ask it for
``/proc/self/environ`` (the environment, with ``B3N_API_KEY``), ``~/.ssh/id_ed25519`` or ``.env``.
:class:`AllowedAudioFiles` is the one check both frameworks' tools run before anything is read:
the path (relative paths are taken relative to the root; ``~`` is expanded) must, after resolving
symlinks and ``..``, lie inside ``root_dir``, carry an allowed audio extension, and be a regular
file outside ``/proc``, ``/sys`` and ``/dev``. Every refusal has the same text whatever the reason,
so the answer never tells the caller whether a path exists. The file is opened once, without
blocking on a FIFO, and read from that descriptor, so it cannot be swapped between the check and
the upload. Where the platform can (``os.open`` with ``dir_fd``: Linux, macOS, the BSDs) the path is
opened one component at a time from the root's descriptor, each with ``O_NOFOLLOW``: no symlink is
followed anywhere below the root, so swapping a folder for a symlink after the check cannot lead
outside it. (Elsewhere symlinks are resolved first and the final component is opened ``O_NOFOLLOW``.)

Loaders and readers (``B3nAudioLoader``, ``B3nAudioReader``, ``client.audio.transcribe``) are
not agent-facing: they keep reading whatever path the developer passes.

Example:
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     _ = (pathlib.Path(root) / "memo.mp3").write_bytes(b"ID3" + bytes(20))
    ...     files = AllowedAudioFiles(root)
    ...     name, data = files.read("memo.mp3")
    ...     try:
    ...         files.read("/proc/self/environ")
    ...     except B3nInvalidRequestError as err:
    ...         refused = str(err)
    >>> name, len(data), refused.startswith("Refused '/proc/self/environ'")
    ('memo.mp3', 23, True)
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from b3n._errors import B3nInvalidRequestError
from b3n._transcription import TRANSCRIPTION_EXTENSIONS, TRANSCRIPTION_MAX_BYTES

#: pseudo file systems whose files look regular (``/proc/self/environ`` has st_size 0) but are not data.
_SPECIAL_ROOTS: tuple[str, ...] = ("/proc", "/sys", "/dev")
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
#: whether folders can be walked one component at a time from a descriptor (``openat``).
_WALKS = os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY") and hasattr(os, "O_NOFOLLOW")


def normalize_extensions(extensions: Iterable[str] | None) -> tuple[str, ...]:
    """Lower-case, dot-less extensions, each one Whisper accepts; ``None`` means all of them.

    Example:
        >>> normalize_extensions([".MP3", "wav"])
        ('mp3', 'wav')
    """
    if extensions is None:
        return TRANSCRIPTION_EXTENSIONS
    if isinstance(extensions, str):
        extensions = [extensions]
    normalized = tuple(dict.fromkeys(str(ext).lower().lstrip(".") for ext in extensions))
    unknown = [ext for ext in normalized if ext not in TRANSCRIPTION_EXTENSIONS]
    if unknown or not normalized:
        raise B3nInvalidRequestError(
            f"allowed_extensions={list(normalized)!r}: transcription only accepts "
            f"{', '.join(TRANSCRIPTION_EXTENSIONS)}; give a non-empty subset of those."
        )
    return normalized


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives on Windows
        return False


class AllowedAudioFiles:
    """The audio files a tool may read: under ``root_dir`` (default: the current directory) with an allowed extension.

    Args:
        root_dir: the directory the tool may read from; relative tool paths are taken relative to it.
            ``None`` means the current working directory at construction.
        allowed_extensions: audio extensions the tool may read (default: every format Whisper accepts).

    Example:
        >>> files = AllowedAudioFiles("/srv/audio", allowed_extensions=["mp3"])
        >>> files.root_dir, files.allowed_extensions
        ('/srv/audio', ('mp3',))
    """

    def __init__(self, root_dir: str | os.PathLike[str] | None = None,
                 allowed_extensions: Iterable[str] | None = None) -> None:
        self.root_dir = os.path.abspath(os.fspath(root_dir)) if root_dir is not None else os.getcwd()
        self.allowed_extensions = normalize_extensions(allowed_extensions)

    def __repr__(self) -> str:
        return f"AllowedAudioFiles(root_dir={self.root_dir!r}, allowed_extensions={self.allowed_extensions!r})"

    def refusal(self, path: object) -> B3nInvalidRequestError:
        """The one refusal, identical for a missing file, a forbidden one and a special one."""
        shown = str(path)
        shown = shown if len(shown) <= 200 else shown[:200] + "..."
        return B3nInvalidRequestError(
            f"Refused {shown!r}: this tool only transcribes existing regular audio files "
            f"({', '.join('.' + ext for ext in self.allowed_extensions)}) inside {self.root_dir}. "
            "Pass the path of such a file (relative to that directory, or absolute inside it)."
        )

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """The real path of ``path`` if the tool may read it; else the refusal (no file is opened)."""
        try:
            raw = os.path.expanduser(os.fspath(path))
            root = os.path.realpath(self.root_dir)
            real = os.path.realpath(os.path.join(root, raw))
        except (TypeError, ValueError, OSError):
            raise self.refusal(path) from None
        ext = os.path.splitext(real)[1].lower().lstrip(".")
        if (
            ext not in self.allowed_extensions
            or not _inside(real, root)
            or any(_inside(real, special) for special in _SPECIAL_ROOTS)
        ):
            raise self.refusal(path)
        return Path(real)

    def _components(self, path: str | os.PathLike[str]) -> list[str]:
        """The names from the root down to the file, read lexically (no file system access); else the refusal."""
        try:
            raw = os.path.expanduser(os.fspath(path))
        except (TypeError, ValueError):
            raise self.refusal(path) from None
        if not isinstance(raw, str) or "\x00" in raw:
            raise self.refusal(path)
        for root in dict.fromkeys((self.root_dir, os.path.realpath(self.root_dir))):
            full = os.path.normpath(os.path.join(root, raw))
            if _inside(full, root) and full != root:
                parts = os.path.relpath(full, root).split(os.sep)
                if os.pardir not in parts:
                    return parts
        raise self.refusal(path)

    def _open_beneath(self, path: str | os.PathLike[str]) -> int:
        """The file's descriptor, opened from the root one component at a time, never following a symlink."""
        parts = self._components(path)
        if os.path.splitext(parts[-1])[1].lower().lstrip(".") not in self.allowed_extensions:
            raise self.refusal(path)
        fd = os.open(os.path.realpath(self.root_dir), _DIR_FLAGS)
        try:
            for name in parts[:-1]:
                next_fd = os.open(name, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = next_fd
            return os.open(parts[-1], _OPEN_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)

    def read(self, path: str | os.PathLike[str]) -> tuple[str, bytes]:
        """``(file name, bytes)`` of an allowed audio file, read from one descriptor; else the refusal.

        A file over Whisper's 25 MB limit raises the size error (the file is inside the root, so
        saying it exists tells nothing new).
        """
        real = self.resolve(path)
        try:
            fd = self._open_beneath(path) if _WALKS else os.open(real, _OPEN_FLAGS)
        except (OSError, ValueError):
            raise self.refusal(path) from None
        try:
            info = os.fstat(fd)
        except OSError:
            os.close(fd)
            raise self.refusal(path) from None
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise self.refusal(path)
        with os.fdopen(fd, "rb") as file:
            if info.st_size > TRANSCRIPTION_MAX_BYTES:
                raise B3nInvalidRequestError(
                    f"{real.name!r} is {info.st_size / 1_048_576:.1f} MB; transcription accepts at most 25 MB. "
                    "Split or compress it first."
                )
            data = file.read(TRANSCRIPTION_MAX_BYTES + 1)
        return real.name, data


__all__ = ["AllowedAudioFiles", "normalize_extensions"]
