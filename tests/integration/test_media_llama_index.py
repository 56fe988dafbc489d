"""LlamaIndex ``B3nToolSpec``, ``B3nAudioReader`` and a ``FunctionAgent`` that calls the image tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from b3n import B3nClient
from b3n._errors import B3nInvalidRequestError
from b3n.testing import Emulator
from llama_index_b3n import B3nAudioReader, B3nToolSpec
from tests.integration.test_images_core import assert_png

TEXT = "The meeting moved to Thursday. Please update the calendar."


@pytest.fixture
def spec(base_url: str, api_key: str, tmp_path: Path) -> B3nToolSpec:
    return B3nToolSpec(api_key=api_key, api_base=base_url, output_dir=tmp_path, root_dir=tmp_path)


def test_tool_list(spec: B3nToolSpec, api_key: str) -> None:
    tools = spec.to_tool_list()
    assert [t.metadata.name for t in tools] == ["generate_image", "text_to_speech", "transcribe_audio"]
    image_schema = tools[0].metadata.get_parameters_dict()
    assert image_schema["required"] == ["prompt"]
    assert image_schema["properties"]["size"]["enum"] == ["1024x1024", "1792x1024", "1024x1792"]
    assert "nova" in str(tools[1].metadata.get_parameters_dict()["properties"]["voice"])
    assert "DALL-E 3" in tools[0].metadata.description
    assert all(t.async_fn is not None for t in tools)
    assert api_key not in repr(spec)


def test_tts_then_transcribe_round_trip(spec: B3nToolSpec, emulator: Emulator, tmp_path: Path) -> None:
    tts, stt = spec.to_tool_list()[1:]
    path = tts.call(text=TEXT, voice="shimmer").raw_output
    assert Path(path).parent == tmp_path and path.endswith(".mp3")
    sent = emulator.last_request("speech")
    assert sent is not None and sent.json["voice"] == "shimmer"
    assert stt.call(file_path=path).raw_output == TEXT


async def test_tts_then_transcribe_round_trip_async(spec: B3nToolSpec, emulator: Emulator) -> None:
    tts, stt = spec.to_tool_list()[1:]
    path = (await tts.acall(text=TEXT)).raw_output
    assert (await stt.acall(file_path=path, language="en")).raw_output == TEXT
    assert emulator.count("speech") == 1 and emulator.count("transcriptions") == 1


def test_generate_image_url_and_saved(base_url: str, api_key: str, emulator: Emulator, tmp_path: Path) -> None:
    url = B3nToolSpec(api_key=api_key, api_base=base_url).generate_image("a castle", style="natural")
    assert url.startswith(emulator.origin + "/files/")
    saver = B3nToolSpec(api_key=api_key, api_base=base_url, output_dir=tmp_path, save_images=True)
    assert_png(Path(saver.generate_image("a castle")).read_bytes())


async def test_generate_image_async(base_url: str, api_key: str, tmp_path: Path) -> None:
    saver = B3nToolSpec(api_key=api_key, api_base=base_url, output_dir=tmp_path, save_images=True)
    assert_png(Path(await saver.agenerate_image("a castle", quality="hd")).read_bytes())


def test_limits_before_sending(spec: B3nToolSpec, emulator: Emulator, base_url: str, api_key: str) -> None:
    with pytest.raises(B3nInvalidRequestError, match="4096"):
        spec.text_to_speech("z" * 5000)
    with pytest.raises(B3nInvalidRequestError, match="size"):
        spec.generate_image("a castle", size="100x100")
    with pytest.raises(B3nInvalidRequestError, match="voice"):
        B3nToolSpec(api_key=api_key, api_base=base_url, voice="robot")
    with pytest.raises(B3nInvalidRequestError, match="empty"):  # agents turn this into an error observation
        spec.to_tool_list()[1].call(text="")
    assert emulator.total_requests == 0


# ----------------------------------------------------------------------------- reader


def _speech(base_url: str, api_key: str, path: Path, text: str) -> Path:
    return B3nClient(api_key=api_key, base_url=base_url).audio.speech_to_file(path, text)


def test_reader_load_data_and_segments(base_url: str, api_key: str, tmp_path: Path) -> None:
    audio = _speech(base_url, api_key, tmp_path / "call.mp3", TEXT)
    docs = B3nAudioReader(api_key=api_key, api_base=base_url).load_data(audio, extra_info={"speaker": "ann"})
    assert len(docs) == 1 and docs[0].text == TEXT
    assert docs[0].metadata["file_name"] == "call.mp3" and docs[0].metadata["speaker"] == "ann"
    assert docs[0].metadata["language"] == "english" and docs[0].metadata["duration"] > 0
    parts = B3nAudioReader(api_key=api_key, api_base=base_url, split_segments=True).load_data(str(audio))
    assert [d.text for d in parts] == ["The meeting moved to Thursday.", "Please update the calendar."]
    assert parts[1].metadata["start"] > 0


async def test_reader_async(base_url: str, api_key: str, tmp_path: Path, emulator: Emulator) -> None:
    audio = _speech(base_url, api_key, tmp_path / "call.mp3", TEXT)
    docs = await B3nAudioReader(api_key=api_key, api_base=base_url).aload_data(audio)
    assert docs[0].text == TEXT and emulator.count("transcriptions") == 1


def test_reader_in_simple_directory_reader(base_url: str, api_key: str, tmp_path: Path) -> None:
    from llama_index.core import SimpleDirectoryReader

    _speech(base_url, api_key, tmp_path / "one.mp3", "File one.")
    _speech(base_url, api_key, tmp_path / "two.mp3", "File two.")
    (tmp_path / "notes.txt").write_text("plain text")
    reader = B3nAudioReader(api_key=api_key, api_base=base_url)
    docs = SimpleDirectoryReader(str(tmp_path), file_extractor={".mp3": reader}).load_data()
    by_name = {d.metadata["file_name"]: d.text for d in docs}
    assert by_name == {"one.mp3": "File one.", "two.mp3": "File two.", "notes.txt": "plain text"}


def test_reader_limit_before_sending(base_url: str, api_key: str, tmp_path: Path, emulator: Emulator) -> None:
    big = tmp_path / "huge.wav"
    with big.open("wb") as fh:
        fh.truncate(26 * 1024 * 1024)
    with pytest.raises(B3nInvalidRequestError, match="25 MB"):
        B3nAudioReader(api_key=api_key, api_base=base_url).load_data(big)
    with pytest.raises(B3nInvalidRequestError, match="verbose_json"):
        B3nAudioReader(api_key=api_key, response_format="json", split_segments=True)
    assert emulator.total_requests == 0


# ----------------------------------------------------------------------------- agent


# llama-index workflows inspects the agent with inspect.getmembers, touching deprecated pydantic attributes.
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")
async def test_function_agent_calls_the_image_tool(spec: B3nToolSpec, base_url: str, api_key: str,
                                                   emulator: Emulator) -> None:
    from llama_index.core.agent.workflow import FunctionAgent

    from llama_index_b3n import B3n

    agent = FunctionAgent(tools=spec.to_tool_list(), llm=B3n(model="gpt-4o-mini", api_key=api_key, api_base=base_url))
    response = await agent.run("Generate an image of a red fox in the snow.")
    calls = response.tool_calls
    assert [c.tool_name for c in calls] == ["generate_image"]
    url = str(calls[0].tool_output.raw_output)
    assert url.startswith(emulator.origin + "/files/")
    assert emulator.count("images") == 1 and emulator.count("speech") == 0
    sent = emulator.last_request("images")
    assert sent is not None and "fox" in sent.json["prompt"]
    assert url in str(response)


@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")
async def test_one_agent_speaks_then_transcribes_with_the_default_folders(
    base_url: str, api_key: str, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
    from llama_index.core.memory import ChatMemoryBuffer

    from b3n.testing import ToolCall
    from llama_index_b3n import B3n

    monkeypatch.chdir(tmp_path)  # root_dir defaults to the working directory; speech goes to the default folder
    spec = B3nToolSpec(api_key=api_key, api_base=base_url)
    agent = FunctionAgent(tools=spec.to_tool_list(), llm=B3n(model="gpt-4o-mini", api_key=api_key, api_base=base_url))
    memory = ChatMemoryBuffer.from_defaults()

    async def turn(task: str) -> list[ToolCallResult]:
        handler = agent.run(task, memory=memory)
        results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
        await handler
        return results

    emulator.script(ToolCall("text_to_speech", {"text": "naïve café, ready."}), "Said it.")
    spoke = await turn("Use the text_to_speech tool to say 'naïve café, ready.'")
    assert [r.tool_name for r in spoke] == ["text_to_speech"] and not spoke[0].tool_output.is_error
    spoken = str(spoke[0].tool_output.raw_output)
    assert not Path(spoken).is_relative_to(tmp_path)  # outside root_dir: readable because the spec wrote it
    emulator.script(ToolCall("transcribe_audio", {"file_path": spoken}), "It says: naïve café, ready.")
    heard = await turn("Now transcribe that audio file with the transcribe_audio tool.")
    assert [r.tool_name for r in heard] == ["transcribe_audio"]
    assert not heard[0].tool_output.is_error, heard[0].tool_output.content
    assert "naïve café, ready." in str(heard[0].tool_output.raw_output)
    assert emulator.count("speech") == 1 and emulator.count("transcriptions") == 1


def test_the_speech_folder_does_not_widen_what_transcription_reads(
    base_url: str, api_key: str, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path.parent / f"{tmp_path.name}-speech"
    spec = B3nToolSpec(api_key=api_key, api_base=base_url, output_dir=out)
    spoken = Path(spec.text_to_speech(TEXT))
    planted = spoken.with_name("planted.mp3")  # another file in the same folder, not written by the tool
    planted.write_bytes(spoken.read_bytes())
    link = spoken.with_name("link.mp3")
    link.symlink_to(planted)
    assert spec.transcribe_audio(str(spoken)) == TEXT
    for path in (planted, link, out / ".." / out.name / "planted.mp3"):
        with pytest.raises(B3nInvalidRequestError, match="Refused"):
            spec.transcribe_audio(str(path))
    assert emulator.count("transcriptions") == 1
