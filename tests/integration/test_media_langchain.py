"""LangChain media tools, the Whisper parser/loader, and an agent that calls the image tool."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.documents.base import Blob
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import ToolMessage

from b3n import B3nClient
from b3n._errors import B3nInvalidRequestError
from b3n.testing import Emulator
from langchain_b3n import B3nAudioLoader, B3nImageGeneration, B3nSpeechToText, B3nTextToSpeech, B3nWhisperParser
from tests.integration.test_images_core import assert_png

TEXT = "Meet me at the station at noon. Bring the blue umbrella."


@pytest.fixture
def conf(base_url: str, api_key: str) -> dict[str, str]:
    return {"api_key": api_key, "base_url": base_url}


def test_tts_then_stt_round_trip(conf: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    tts = B3nTextToSpeech(**conf, output_dir=str(tmp_path), model="tts-1-hd")
    stt = B3nSpeechToText(**conf, root_dir=str(tmp_path))
    path = tts.invoke({"text": TEXT, "voice": "onyx"})
    assert Path(path).parent == tmp_path and path.endswith(".mp3")
    sent = emulator.last_request("speech")
    assert sent is not None and sent.json["voice"] == "onyx" and sent.json["model"] == "tts-1-hd"
    assert stt.invoke({"file_path": path, "language": "en"}) == TEXT
    form = emulator.last_request("transcriptions")
    assert form is not None and "whisper-1" in str(form.json)


async def test_tts_then_stt_round_trip_async(conf: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    path = await B3nTextToSpeech(**conf, output_dir=str(tmp_path), audio_format="wav").ainvoke({"text": TEXT})
    assert path.endswith(".wav")
    assert await B3nSpeechToText(**conf, root_dir=str(tmp_path)).ainvoke({"file_path": path}) == TEXT
    assert emulator.count("speech") == 1 and emulator.count("transcriptions") == 1


def test_image_tool_url_and_saved_png(conf: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    url = B3nImageGeneration(**conf).invoke({"prompt": "a red fox in the snow", "size": "1024x1792"})
    assert url.startswith(emulator.origin + "/files/")
    saved = B3nImageGeneration(**conf, output_dir=str(tmp_path / "imgs")).invoke({"prompt": "a red fox"})
    assert Path(saved).parent == tmp_path / "imgs"
    assert_png(Path(saved).read_bytes())
    sent = emulator.last_request("images")
    assert sent is not None and sent.json["response_format"] == "b64_json"  # one round trip, no expiring link


async def test_image_tool_async(conf: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    saved = await B3nImageGeneration(**conf, output_dir=str(tmp_path)).ainvoke({"prompt": "a blue whale"})
    assert_png(Path(saved).read_bytes())
    assert (await B3nImageGeneration(**conf).ainvoke({"prompt": "a blue whale"})).startswith("http")


def test_tools_schema_and_no_key_leak(conf: dict[str, str]) -> None:
    tool = B3nImageGeneration(**conf)
    schema = tool.tool_call_schema.model_json_schema()
    assert schema["required"] == ["prompt"]
    assert set(schema["properties"]) == {"prompt", "size", "quality", "style"}
    assert B3nTextToSpeech(**conf).args["voice"]["enum"][:2] == ["alloy", "echo"]
    for t in (tool, B3nTextToSpeech(**conf), B3nSpeechToText(**conf)):
        assert conf["api_key"] not in repr(t) and conf["api_key"] not in str(t.model_dump())


def test_tool_limits_raise_hybrid_errors_before_sending(conf: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(ModelInvalidRequestError) as info:
        B3nTextToSpeech(**conf, output_dir=str(tmp_path)).invoke({"text": "x" * 4097})
    assert isinstance(info.value, B3nInvalidRequestError) and "4096" in str(info.value)
    with pytest.raises(ModelInvalidRequestError, match="only transcribes existing regular audio files"):
        B3nSpeechToText(**conf, root_dir=str(tmp_path)).invoke({"file_path": str(tmp_path / "missing.mp3")})
    with pytest.raises(ModelInvalidRequestError, match="empty"):
        B3nImageGeneration(**conf).invoke({"prompt": " "})
    with pytest.raises(ModelInvalidRequestError, match="speed"):
        B3nTextToSpeech(**conf, speed=9.0).invoke({"text": "hi"})
    assert emulator.total_requests == 0 and list(tmp_path.iterdir()) == []


def test_tool_error_can_go_back_to_the_model(conf: dict[str, str], emulator: Emulator) -> None:
    tool = B3nTextToSpeech(**conf, handle_tool_error=True)
    out = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": {"text": ""}})
    assert isinstance(out, ToolMessage) and out.status == "error" and "empty" in str(out.content)
    assert emulator.total_requests == 0


# ----------------------------------------------------------------------------- loader / parser


def _speech_file(base_url: str, api_key: str, path: Path, text: str, fmt: str = "mp3") -> Path:
    return B3nClient(api_key=api_key, base_url=base_url).audio.speech_to_file(path, text, response_format=fmt)


def test_whisper_parser_metadata_and_segments(base_url: str, api_key: str, conf: dict[str, str], tmp_path: Path) -> None:
    audio = _speech_file(base_url, api_key, tmp_path / "memo.mp3", TEXT)
    docs = B3nWhisperParser(**conf).parse(Blob.from_path(audio))
    assert len(docs) == 1 and docs[0].page_content == TEXT
    meta = docs[0].metadata
    assert meta["source"] == str(audio) and meta["language"] == "english" and meta["duration"] > 0
    parts = B3nWhisperParser(**conf, split_segments=True).parse(Blob.from_data(audio.read_bytes(), path="x.mp3"))
    assert [d.page_content for d in parts] == ["Meet me at the station at noon.", "Bring the blue umbrella."]
    assert parts[0].metadata["start"] == 0 and parts[1].metadata["end"] == pytest.approx(meta["duration"], abs=0.01)
    assert parts[1].metadata["segment"] == 1 and parts[1].metadata["source"] == "x.mp3"


def test_whisper_parser_rejects_bad_options_at_construction(conf: dict[str, str]) -> None:
    with pytest.raises(ModelInvalidRequestError, match="verbose_json"):
        B3nWhisperParser(**conf, response_format="text", split_segments=True)
    with pytest.raises(ModelInvalidRequestError, match="ISO-639-1"):
        B3nWhisperParser(**conf, language="english")
    assert conf["api_key"] not in repr(B3nWhisperParser(**conf))


def test_audio_loader_sync_and_async(base_url: str, api_key: str, conf: dict[str, str], tmp_path: Path) -> None:
    a = _speech_file(base_url, api_key, tmp_path / "a.mp3", "First file.")
    b = _speech_file(base_url, api_key, tmp_path / "b.wav", "Second file. Two sentences.", fmt="wav")
    docs = B3nAudioLoader([a, b], **conf).load()
    assert [(d.page_content, Path(d.metadata["source"]).name) for d in docs] == [
        ("First file.", "a.mp3"), ("Second file. Two sentences.", "b.wav")]
    split = B3nAudioLoader(b, parser=B3nWhisperParser(**conf, split_segments=True)).load()
    assert [d.page_content for d in split] == ["Second file.", "Two sentences."]


async def test_audio_loader_async(base_url: str, api_key: str, conf: dict[str, str], tmp_path: Path,
                                  emulator: Emulator) -> None:
    a = _speech_file(base_url, api_key, tmp_path / "a.mp3", "Async file.")
    docs = await B3nAudioLoader(a, **conf).aload()
    assert [d.page_content for d in docs] == ["Async file."]
    assert emulator.count("transcriptions") == 1


def test_loader_limit_before_sending(conf: dict[str, str], tmp_path: Path, emulator: Emulator) -> None:
    big = tmp_path / "huge.mp3"
    with big.open("wb") as fh:
        fh.truncate(26 * 1024 * 1024)
    with pytest.raises(ModelInvalidRequestError, match="25 MB"):
        B3nAudioLoader(big, **conf).load()
    assert emulator.total_requests == 0


# ----------------------------------------------------------------------------- agent

# create_react_agent is what the issue asks for; langgraph 1.x points to langchain.agents.create_agent.
_react_deprecation = pytest.mark.filterwarnings("ignore:create_react_agent has been moved")


@_react_deprecation
def test_react_agent_calls_the_image_tool(conf: dict[str, str], emulator: Emulator) -> None:
    from langgraph.prebuilt import create_react_agent

    from langchain_b3n import ChatB3n

    agent = create_react_agent(ChatB3n(model="gpt-4o-mini", **conf), [B3nImageGeneration(**conf)])
    state = agent.invoke({"messages": [("user", "Generate an image of a red fox in the snow.")]})
    tool_messages = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert len(tool_messages) == 1 and tool_messages[0].name == "b3n_image_generation"
    url = str(tool_messages[0].content)
    assert url.startswith(emulator.origin + "/files/")
    assert emulator.count("images") == 1 and emulator.count("chat") == 2
    sent = emulator.last_request("images")
    assert sent is not None and "fox" in sent.json["prompt"]
    assert url in str(state["messages"][-1].content)  # the final answer uses the tool result


@_react_deprecation
async def test_react_agent_async(conf: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    from langgraph.prebuilt import create_react_agent

    from langchain_b3n import ChatB3n

    tools = [B3nImageGeneration(**conf, output_dir=str(tmp_path)), B3nTextToSpeech(**conf, output_dir=str(tmp_path))]
    agent = create_react_agent(ChatB3n(model="claude-3-5-sonnet-latest", **conf), tools)
    state = await agent.ainvoke({"messages": [("user", "Please generate an image of a lighthouse.")]})
    calls = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert [m.name for m in calls] == ["b3n_image_generation"]
    assert_png(Path(str(calls[0].content)).read_bytes())
    assert emulator.count("speech") == 0
