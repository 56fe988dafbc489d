"""The speech-to-text tools' root confinement holds for every path component, also against a swap.

A folder inside the root is swapped for a symlink to a folder outside it, over and over, while the
tool reads ``folder/memo.mp3``: the check and the open then see different trees. Reading must give
the file inside the root or the refusal, never the outside file.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from b3n._errors import B3nInvalidRequestError
from b3n._file_access import AllowedAudioFiles

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symlink swaps need a POSIX file system")

INSIDE = b"ID3" + b"inside root " * 4
SECRET = b"ID3" + b"SECRET outside " * 4


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "folder").mkdir(parents=True)
    outside.mkdir()
    (root / "folder" / "memo.mp3").write_bytes(INSIDE)
    (outside / "memo.mp3").write_bytes(SECRET)
    return root, outside


def test_a_symlinked_folder_below_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = _tree(tmp_path)
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "inner").symlink_to(root / "folder", target_is_directory=True)
    files = AllowedAudioFiles(root)
    for path in ("linked/memo.mp3", str(root / "linked" / "memo.mp3"), "inner/memo.mp3"):
        with pytest.raises(B3nInvalidRequestError, match="Refused"):
            files.read(path)
    assert files.read("folder/memo.mp3") == ("memo.mp3", INSIDE)
    assert files.read(str(root / "folder" / "memo.mp3")) == ("memo.mp3", INSIDE)


def test_swapping_a_folder_for_a_symlink_never_reads_outside_the_root(tmp_path: Path) -> None:
    root, outside = _tree(tmp_path)
    folder, parked, link = root / "folder", root / ".parked", root / ".link"
    link.symlink_to(outside, target_is_directory=True)
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            os.rename(folder, parked)
            os.rename(link, folder)  # folder is now a symlink to outside/
            os.rename(folder, link)
            os.rename(parked, folder)

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    files = AllowedAudioFiles(root)
    seen: dict[bytes, int] = {}
    refused = 0
    ends = time.monotonic() + 3.0
    try:
        while time.monotonic() < ends and not seen.get(SECRET):
            try:
                _, data = files.read("folder/memo.mp3")
            except B3nInvalidRequestError:
                refused += 1
                continue
            seen[data] = seen.get(data, 0) + 1
    finally:
        stop.set()
        swapper.join()
    assert not seen.get(SECRET), f"read the file outside the root {seen[SECRET]} times"
    assert seen.get(INSIDE, 0) + refused > 100  # the race really ran
