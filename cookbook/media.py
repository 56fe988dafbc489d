# %% [markdown]
# # Media: image generation, text to speech and transcription through `B3nClient`
#
# `B3nClient` (re-exported by both `langchain_b3n` and `llama_index_b3n`) covers B3n's non-chat
# endpoints: DALL-E 3 images, `tts-1` / `tts-1-hd` speech, and `whisper-1` transcription. Here we
# generate an image and save it, speak a sentence, and transcribe the audio back: a full round
# trip. Arguments are checked before anything is sent (sizes, voices, formats, the 25 MB Whisper
# limit) with errors that say what to change.

# %%
import tempfile
from pathlib import Path

from _setup import connect, heading

b3n = connect()
base_url, api_key = b3n.base_url, b3n.api_key
out_dir = Path(tempfile.mkdtemp(prefix="b3n-cookbook-"))

# %%
from langchain_b3n import B3nClient

client = B3nClient(api_key=api_key, base_url=base_url)
print(client)  # the key never shows

# %% [markdown]
# ## Image generation (dall-e-3)

# %%
heading("Image generation")
result = client.images.generate("a watercolour lighthouse at dusk", size="1792x1024", quality="hd", style="natural")
image = result.images[0]
print("revised prompt:", image.revised_prompt)
print("temporary URL: ", image.url)  # B3n returns OpenAI's blob URL, valid about two hours: save it promptly
saved = image.save(out_dir / "lighthouse.png")
is_png = saved.read_bytes().startswith(b"\x89PNG")
print(f"saved {saved.stat().st_size} bytes to {saved.name} (a PNG: {is_png})")

# %% [markdown]
# ## Text to speech (tts-1), then transcription (whisper-1)

# %%
heading("Text to speech")
SENTENCE = "The quick brown fox jumps over the lazy dog."
audio = client.audio.speech(SENTENCE, voice="nova", response_format="mp3")
print(f"speech: {len(audio)} bytes of mp3")
speech_file = client.audio.speech_to_file(out_dir / "fox.wav", SENTENCE, model="tts-1-hd", response_format="wav")
print(f"streamed to file: {speech_file.name} ({speech_file.stat().st_size} bytes)")

heading("Transcription round trip")
transcript = client.audio.transcribe(speech_file, response_format="verbose_json")
print("transcript:", transcript.text.strip())
print("language:  ", transcript.language, "| duration:", transcript.duration, "s")
print("round trip exact:", transcript.text.strip() == SENTENCE)

# %% [markdown]
# ## Bad arguments never reach the relay

# %%
from langchain_b3n import B3nInvalidRequestError

heading("Validation before sending")
for call in (lambda: client.images.generate("a cat", size="512x512"),
             lambda: client.audio.speech("hi", voice="robot")):
    try:
        call()
    except B3nInvalidRequestError as err:
        print(f"{type(err).__name__}: {err}")

# %% [markdown]
# ## The same, as framework tools
#
# LangChain: `B3nImageGeneration`, `B3nTextToSpeech`, `B3nSpeechToText` (`BaseTool`s for agents);
# LlamaIndex: `B3nToolSpec().to_tool_list()`. Here the LangChain pair does the round trip.

# %%
from langchain_b3n import B3nSpeechToText, B3nTextToSpeech

heading("LangChain tools")
tts = B3nTextToSpeech(api_key=api_key, base_url=base_url, output_dir=str(out_dir))
stt = B3nSpeechToText(api_key=api_key, base_url=base_url, root_dir=str(out_dir))  # the only folder it may read
path = tts.invoke({"text": "Tools can talk too."})
print(f"{tts.name} wrote {Path(path).name}; {stt.name} heard: {stt.invoke({'file_path': path})!r}")

# %%
import shutil

shutil.rmtree(out_dir)
b3n.cleanup()
