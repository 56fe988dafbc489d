"""Agent-facing speech-to-text tools read only audio files under their root directory (issue 14, item 3).

A model (or a prompt injection) picks the tool's ``file_path``. Every refused path must cost zero
requests at the emulator's transcription route, raise the typed invalid-request error, and say the
same thing whether the file exists or not. Loaders and readers keep reading any path.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from b3n import B3nClient
from b3n._errors import B3nInvalidRequestError
from b3n.testing import Emulator
from langchain_b3n import B3nAudioLoader, B3nSpeechToText
from langchain_b3n.errors import B3nToolInputError
from llama_index_b3n import B3nAudioReader, B3nToolSpec

SPOKEN = "The quarterly numbers look fine."
Transcribe = Callable[[str], str]


@pytest.fixture
def tree(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A root with one good recording and bait around it; HOME is a temp dir holding an SSH key."""
    audio = B3nClient(api_key="sk-test", base_url=emulator.base_url).audio.speech(SPOKEN)
    home, root = tmp_path / "home", tmp_path / "root"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY----- canary")
    monkeypatch.setenv("HOME", str(home))
    root.mkdir()
    (root / "good.mp3").write_bytes(audio)
    (root / ".env").write_text("B3N_API_KEY=sk-canary\n")
    (root / "folder.mp3").mkdir()
    os.mkfifo(root / "pipe.mp3")  # opening it for reading would block forever
    (tmp_path / "outside.mp3").write_bytes(audio)
    (root / "escape.mp3").symlink_to(tmp_path / "outside.mp3")
    (root / "dangling.mp3").symlink_to(tmp_path / "absent.mp3")
    emulator.reset()
    return {"root": root, "outside": tmp_path / "outside.mp3"}


def _langchain(root: Path, base_url: str, is_async: bool) -> Transcribe:
    tool = B3nSpeechToText(api_key="sk-test", base_url=base_url, root_dir=str(root))
    if is_async:
        return lambda path: asyncio.run(tool.ainvoke({"file_path": path}))
    return lambda path: tool.invoke({"file_path": path})


def _llama_index(root: Path, base_url: str, is_async: bool) -> Transcribe:
    spec = B3nToolSpec(api_key="sk-test", api_base=base_url, root_dir=root)
    if is_async:
        return lambda path: asyncio.run(spec.atranscribe_audio(path))
    return spec.transcribe_audio


TOOLS: dict[str, Callable[[Path, str], Transcribe]] = {
    "B3nSpeechToText.invoke": lambda root, url: _langchain(root, url, False),
    "B3nSpeechToText.ainvoke": lambda root, url: _langchain(root, url, True),
    "B3nToolSpec.transcribe_audio": lambda root, url: _llama_index(root, url, False),
    "B3nToolSpec.atranscribe_audio": lambda root, url: _llama_index(root, url, True),
}

#: paths a hostile model asks for, each one refused (in the temp tree built by ``tree``).
REFUSED = [
    "/proc/self/environ", "/dev/zero", "~/.ssh/id_ed25519", ".env", "{root}/.env", "../outside.mp3",
    "{outside}", "sub/../../outside.mp3", "escape.mp3", "dangling.mp3", "pipe.mp3", "folder.mp3",
    "good.mp3\x00.env",
]
#: (existing, missing) twins: the refusal must read the same apart from the path itself.
TWINS = [
    ("~/.ssh/id_ed25519", "~/.ssh/id_rsa"),
    ("/proc/self/environ", "/proc/self/no-such-file"),
    ("../outside.mp3", "../absent.mp3"),
    ("escape.mp3", "dangling.mp3"),
    (".env", ".env.local"),
    ("pipe.mp3", "no-such-file.mp3"),
]


@pytest.fixture
def tool(request: pytest.FixtureRequest, tree: dict[str, Path], emulator: Emulator) -> Transcribe:
    return TOOLS[request.param](tree["root"], emulator.base_url)


def _refusal(call: Transcribe, path: str) -> str:
    with pytest.raises(B3nInvalidRequestError) as info:
        call(path)
    return str(info.value)


@pytest.mark.parametrize("tool", list(TOOLS), indirect=True)
def test_hostile_paths_are_refused_without_a_request(
    tool: Transcribe, tree: dict[str, Path], emulator: Emulator
) -> None:
    for pattern in REFUSED:
        path = pattern.format(root=tree["root"], outside=tree["outside"])
        message = _refusal(tool, path)
        assert message.startswith("Refused ") and str(tree["root"]) in message, (path, message)
        assert "canary" not in message and "BEGIN OPENSSH" not in message
    assert emulator.count("transcriptions") == 0 and emulator.total_requests == 0
    # the good file, relative and absolute, still goes through (one request each)
    assert tool("good.mp3") == SPOKEN
    assert tool(str(tree["root"] / "good.mp3")) == SPOKEN
    assert emulator.count("transcriptions") == 2


@pytest.mark.parametrize("tool", list(TOOLS), indirect=True)
def test_refusal_does_not_reveal_whether_the_path_exists(tool: Transcribe, emulator: Emulator) -> None:
    for existing, missing in TWINS:
        said_existing = _refusal(tool, existing).replace(repr(existing), "<path>")
        said_missing = _refusal(tool, missing).replace(repr(missing), "<path>")
        assert said_existing == said_missing, (existing, missing)
    assert emulator.count("transcriptions") == 0


def test_langchain_tool_error_is_typed_and_goes_back_to_the_model(
    tree: dict[str, Path], emulator: Emulator
) -> None:
    tool = B3nSpeechToText(api_key="sk-test", base_url=emulator.base_url, root_dir=str(tree["root"]))
    with pytest.raises(B3nToolInputError):
        tool.invoke({"file_path": "/proc/self/environ"})
    handled = B3nSpeechToText(api_key="sk-test", base_url=emulator.base_url, root_dir=str(tree["root"]),
                              handle_tool_error=True)
    out = handled.invoke({"type": "tool_call", "id": "c1", "name": handled.name,
                          "args": {"file_path": "~/.ssh/id_ed25519"}})
    assert out.status == "error" and "Refused" in str(out.content) and "canary" not in str(out.content)
    assert emulator.count("transcriptions") == 0


def test_default_root_is_the_working_directory_and_extensions_narrow(
    tree: dict[str, Path], emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree["root"])
    lc = B3nSpeechToText(api_key="sk-test", base_url=emulator.base_url)
    li = B3nToolSpec(api_key="sk-test", api_base=emulator.base_url)
    assert lc.root_dir == str(tree["root"]) == li.audio_files.root_dir
    assert lc.invoke({"file_path": "good.mp3"}) == SPOKEN == li.transcribe_audio("good.mp3")
    for call in (lambda p: lc.invoke({"file_path": p}), li.transcribe_audio):
        assert "Refused" in _refusal(call, "/proc/self/environ")
        assert "Refused" in _refusal(call, "../outside.mp3")
    wav_only = B3nSpeechToText(api_key="sk-test", base_url=emulator.base_url, allowed_extensions=[".WAV"])
    assert "(.wav)" in _refusal(lambda p: wav_only.invoke({"file_path": p}), "good.mp3")
    with pytest.raises(ValueError, match="allowed_extensions"):
        B3nSpeechToText(api_key="sk-test", allowed_extensions=["txt"])
    with pytest.raises(B3nInvalidRequestError, match="allowed_extensions"):
        B3nToolSpec(api_key="sk-test", allowed_extensions=["env"])
    assert emulator.count("transcriptions") == 2


def test_loaders_still_read_any_path_the_developer_gives(tree: dict[str, Path], emulator: Emulator) -> None:
    outside = tree["outside"]
    docs = B3nAudioLoader(str(outside), api_key="sk-test", base_url=emulator.base_url).load()
    assert docs[0].page_content == SPOKEN
    assert B3nAudioReader(api_key="sk-test", api_base=emulator.base_url).load_data(outside)[0].text == SPOKEN
    assert emulator.count("transcriptions") == 2
