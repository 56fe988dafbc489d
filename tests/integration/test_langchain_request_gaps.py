"""ChatB3n request details the drop-in rule needs: strict schemas, a dropped parallel_tool_calls, PDF and audio parts."""

from __future__ import annotations

import base64
import warnings
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from b3n._chat import request as request_module
from b3n._errors import B3nAdaptationWarning, B3nInvalidRequestError
from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from tests.langchain_tools import magic_function

PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF").decode()
WAV = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)).decode()


class Search(BaseModel):
    """Search the catalogue."""

    query: str
    limit: int = Field(default=5, description="How many results.")
    default: str = Field(default="x", description="A property named 'default' is kept.")


def _llm(emulator: Emulator, model: str) -> ChatB3n:
    return ChatB3n(model=model, api_key="sk-test", base_url=emulator.base_url, max_retries=0)


def _no_default_keyword(node: Any) -> bool:
    if isinstance(node, dict):
        return all(k != "default" or (isinstance(v, dict) and "type" in v) for k, v in node.items()) and all(
            _no_default_keyword(v) for v in node.values())
    if isinstance(node, list):
        return all(_no_default_keyword(v) for v in node)
    return True


def test_strict_tools_obey_openai_strict_mode(emulator: Emulator) -> None:
    _llm(emulator, "gpt-4o-mini").bind_tools([Search], strict=True).invoke("search the catalogue for 'tea'")
    last = emulator.last_request("chat")
    assert last is not None
    params = last.json["tools"][0]["function"]["parameters"]
    assert last.json["tools"][0]["function"]["strict"] is True
    assert _no_default_keyword(params), params
    assert params["additionalProperties"] is False
    assert sorted(params["required"]) == ["default", "limit", "query"]
    assert "default" in params["properties"]  # the property of that name stays


def test_strict_json_schema_output_has_no_default_keys(emulator: Emulator) -> None:
    runnable = _llm(emulator, "gpt-4o-mini").with_structured_output(Search, method="json_schema", strict=True)
    assert isinstance(runnable.invoke("search the catalogue for 'tea'"), Search)
    last = emulator.last_request("chat")
    assert last is not None
    schema = last.json["response_format"]["json_schema"]["schema"]
    assert _no_default_keyword(schema) and schema["additionalProperties"] is False


@pytest.mark.parametrize("model", ["claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"])
def test_a_dropped_parallel_tool_calls_warns_once(emulator: Emulator, model: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_module, "_PARALLEL_WARNED", set())
    bound = _llm(emulator, model).bind_tools([magic_function], parallel_tool_calls=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            assert bound.invoke("What is magic_function(3)?").tool_calls[0]["args"] == {"input": 3}
    dropped = [w for w in caught if issubclass(w.category, B3nAdaptationWarning) and "parallel_tool_calls" in
               str(w.message)]
    assert len(dropped) == 1 and "parallel_tool_calls=False was not sent" in str(dropped[0].message)
    assert dropped[0].filename == __file__
    assert all("parallel_tool_calls" not in r.json for r in emulator.requests if "chat" in r.route)


def _pdf_message() -> HumanMessage:
    return HumanMessage(content=[
        {"type": "text", "text": "say 1"},
        {"type": "file", "base64": PDF, "mime_type": "application/pdf", "filename": "a.pdf"},
    ])


def _audio_message() -> HumanMessage:
    return HumanMessage(content=[
        {"type": "text", "text": "say 1"},
        {"type": "audio", "base64": WAV, "mime_type": "audio/wav"},
    ])


#: a kind of file part -> (the message carrying one, the profile key, the wire parts sent, the refusal's words).
_FILE_PARTS: dict[str, tuple[Any, str, list[str], str]] = {
    "pdf": (_pdf_message, "pdf_inputs", ["text", "file"], "PDF"),
    "audio": (_audio_message, "audio_inputs", ["text", "input_audio"], "audio inputs"),
}


@pytest.mark.parametrize(("kind", "model", "forwarded"), [
    ("pdf", "gpt-4o-mini", True), ("pdf", "gpt-4o", True), ("pdf", "claude-3-5-sonnet-latest", False),
    ("pdf", "gemini-1.5-flash-latest", False), ("pdf", "gpt-3.5-turbo", False),
    ("audio", "gpt-4o-audio-preview", True), ("audio", "gpt-4o-mini", False),
    ("audio", "claude-3-5-sonnet-latest", False), ("audio", "gemini-1.5-flash-latest", False),
])
def test_file_parts_are_sent_only_where_the_relay_forwards_them(emulator: Emulator, kind: str, model: str,
                                                                forwarded: bool) -> None:
    message, profile_key, wire_parts, refusal = _FILE_PARTS[kind]
    with warnings.catch_warnings():
        if kind == "audio":  # gpt-4o-audio-preview is outside the catalog: its family-default warning
            warnings.simplefilter("ignore")
        llm = _llm(emulator, model)
        assert llm.profile is not None and llm.profile[profile_key] is forwarded
        if forwarded:
            llm.invoke([message()])
            last = emulator.last_request("chat")
            assert last is not None
            assert [p["type"] for p in last.json["messages"][0]["content"]] == wire_parts
        else:
            with pytest.raises(B3nInvalidRequestError, match=refusal):
                llm.invoke([message()])
            assert emulator.count("chat") == 0


def test_init_chat_model_refuses_a_b3n_string_as_the_docs_say() -> None:
    from langchain.chat_models import init_chat_model

    with pytest.raises(ValueError, match="model provider"):
        init_chat_model("b3n:gpt-4o-mini")


def test_speech_and_transcription_tools_work_together_by_default(emulator: Emulator, tmp_path: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_b3n import B3nSpeechToText, B3nTextToSpeech
    from langchain_b3n.errors import B3nToolInputError

    workdir, speech_dir = tmp_path / "work", tmp_path / "speech"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # the transcription tool's default root_dir
    tts = B3nTextToSpeech(api_key="sk-test", base_url=emulator.base_url, output_dir=str(speech_dir))
    stt = B3nSpeechToText(api_key="sk-test", base_url=emulator.base_url)
    spoken = tts.invoke({"text": "Good morning"})
    assert not spoken.startswith(str(workdir))
    assert "Good morning" in stt.invoke({"file_path": spoken})
    other = speech_dir / "not-spoken.mp3"  # a file the speech tool did not write stays out of reach
    other.write_bytes(b"ID3" + bytes(64))
    with pytest.raises(B3nToolInputError, match="Refused"):
        stt.invoke({"file_path": str(other)})
    assert sum("transcriptions" in r.route for r in emulator.requests) == 1  # the refused file was not sent
