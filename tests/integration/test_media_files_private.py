"""Media files are private, bounded in time and size, and never left half-written.

- The default output folder is the user's own (``0700``), never a fixed shared path; a symlink, a file or
  another user's folder planted where it would go is not used.
- Files written are ``0600``.
- ``speech_to_file`` and ``images.save`` stop at ``total_timeout`` against a relay that trickles bytes, and
  the speech file stops at the size cap against a gzip bomb; neither leaves a ``.part`` file.

The default folder is chosen once per process, so the tests that plant things run a child process with its
own cache folder (``XDG_CACHE_HOME``).
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from b3n import B3nClient, B3nError, B3nTimeoutError
from b3n._body import MAX_BINARY_BYTES
from tests.hostile import HostileServer

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and owners are POSIX")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(4000)

_CHILD = """
import json, os, sys
from b3n.testing import Emulator
from langchain_b3n import B3nTextToSpeech
with Emulator() as emu:
    path = B3nTextToSpeech(api_key="sk-test", base_url=emu.base_url).invoke({"text": "Grüße aus Zürich"})
import b3n
print(json.dumps({"file": path, "folder": str(b3n.default_output_dir())}))
"""


def _mode(path: str | Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _speak_in_child(cache: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    out: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def test_the_default_folder_is_private_to_the_user(tmp_path: Path) -> None:
    out = _speak_in_child(tmp_path / "cache")
    folder = Path(out["folder"])
    assert folder == tmp_path / "cache" / "b3n" / "media"
    assert Path(out["file"]).parent == folder and Path(out["file"]).read_bytes()[:3] == b"ID3"
    assert _mode(folder) == 0o700 and _mode(out["file"]) == 0o600
    assert not str(folder).startswith(os.path.join(os.path.realpath("/tmp"), "b3n"))


@pytest.mark.parametrize("plant", ["symlink", "file", "other_users_folder"])
def test_something_planted_at_the_default_folder_is_not_used(tmp_path: Path, plant: str) -> None:
    cache, trap = tmp_path / "cache", tmp_path / "trap"
    (cache / "b3n").mkdir(parents=True)
    trap.mkdir(mode=0o777)
    planted = cache / "b3n" / "media"
    if plant == "symlink":
        planted.symlink_to(trap, target_is_directory=True)
    elif plant == "file":
        planted.write_bytes(b"")
    else:
        if os.getuid() != 0:
            pytest.skip("giving a folder to another user needs root")
        planted.mkdir(mode=0o777)
        os.chown(planted, 4321, 4321)
    out = _speak_in_child(cache)
    assert list(trap.iterdir()) == [] and (plant != "other_users_folder" or list(planted.iterdir()) == [])
    folder = Path(out["folder"])
    assert folder != planted and Path(out["file"]).parent == folder
    assert _mode(folder) == 0o700 and os.lstat(folder).st_uid == os.getuid() and _mode(out["file"]) == 0o600


def test_a_folder_of_ours_that_is_too_open_is_closed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "b3n" / "media").mkdir(parents=True, mode=0o755)
    os.chmod(cache / "b3n" / "media", 0o755)
    out = _speak_in_child(cache)
    assert out["folder"] == str(cache / "b3n" / "media") and _mode(out["folder"]) == 0o700


def test_files_and_folders_written_are_private(tmp_path: Path, emulator_url: str) -> None:
    client = B3nClient(api_key="sk-test", base_url=emulator_url)
    speech = client.audio.speech_to_file(tmp_path / "new" / "deeper" / "hi.mp3", "Hallo Welt")
    image = client.images.generate("a fox", response_format="b64_json").images[0]
    saved = client.images.save(image, tmp_path / "new" / "fox.png")
    assert _mode(speech) == 0o600 and _mode(saved) == 0o600
    assert _mode(tmp_path / "new") == 0o700 and _mode(tmp_path / "new" / "deeper") == 0o700


@pytest.fixture
def emulator_url() -> object:
    from b3n.testing import Emulator

    with Emulator() as emu:
        yield emu.base_url


def _trickle(h: object, n: int, body: bytes, ctype: str) -> None:
    h.start(200, content_type=ctype)  # type: ignore[attr-defined]
    for i in range(0, len(body), 16):
        h.send(body[i : i + 16], pause=0.1)  # type: ignore[attr-defined]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_speech_to_file_stops_at_total_timeout_and_leaves_nothing(tmp_path: Path) -> None:
    with HostileServer(lambda h, n: _trickle(h, n, b"ID3" + bytes(4000), "audio/mpeg")) as relay:
        client = B3nClient(api_key="sk-test", base_url=relay.url + "/v1", timeout=5, total_timeout=1.0,
                           max_retries=0)
        started = time.monotonic()
        with pytest.raises(B3nError, match="total_timeout") as caught:
            client.audio.speech_to_file(tmp_path, "Grüße")
        elapsed = time.monotonic() - started
        assert relay.count("/audio/speech") == 1
    assert isinstance(caught.value, TimeoutError) and elapsed < 2.5
    assert _leftovers(tmp_path) == []


def test_images_save_stops_at_total_timeout_and_leaves_nothing(tmp_path: Path) -> None:
    def script(h: object, n: int) -> None:
        if h.command == "POST":  # type: ignore[attr-defined]
            url = f"http://127.0.0.1:{h.server.server_address[1]}/img.png"  # type: ignore[attr-defined]
            h.reply(200, json.dumps({"created": 1, "data": [{"url": url}]}).encode())  # type: ignore[attr-defined]
        else:
            _trickle(h, n, PNG, "image/png")

    with HostileServer(script) as relay:
        client = B3nClient(api_key="sk-test", base_url=relay.url + "/v1", timeout=5, total_timeout=1.0,
                           max_retries=0)
        image = client.images.generate("a fox").images[0]
        started = time.monotonic()
        with pytest.raises(B3nTimeoutError, match="total_timeout"):
            client.images.save(image, tmp_path)
        with pytest.raises(B3nTimeoutError, match="total_timeout"):
            client.images.save(image, tmp_path / "named.png")
        elapsed = time.monotonic() - started
    assert elapsed < 5.0
    assert _leftovers(tmp_path) == []


def test_a_gzip_bomb_of_speech_stops_at_the_size_cap(tmp_path: Path) -> None:
    bomb = gzip.compress(bytes(MAX_BINARY_BYTES + 8 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 200 * 1024

    def script(h: object, n: int) -> None:
        h.reply(200, bomb, content_type="audio/mpeg", headers={"Content-Encoding": "gzip"})  # type: ignore[attr-defined]

    with HostileServer(script) as relay:
        client = B3nClient(api_key="sk-test", base_url=relay.url + "/v1", max_retries=0)
        with pytest.raises(B3nError, match="larger than 67108864 bytes"):
            client.audio.speech_to_file(tmp_path / "bomb.mp3", "Grüße")
        assert relay.count("/audio/speech") == 1  # billed: not repeated
    assert _leftovers(tmp_path) == []
