# %% [markdown]
# # Vision: image URLs and base64 images, in LangChain and LlamaIndex
#
# Vision models on B3n (GPT-4o, GPT-4-turbo, Claude 3.x, Gemini 1.5) take images as URLs or as
# base64 `data:` URLs. LangChain accepts its standard content blocks (`{"type": "image", ...}`)
# and OpenAI-style `image_url` parts; LlamaIndex takes `ImageBlock`s. A text-only model gets a
# clear error *before* any request is sent (no tokens spent).

# %%
import base64
import struct
import zlib

from _setup import connect, heading

b3n = connect()
base_url, api_key = b3n.base_url, b3n.api_key
if b3n.offline:
    print("(offline, the emulator reports which images it received; the real models describe them)")

IMAGE_URL = "https://upload.wikimedia.org/wikipedia/commons/thumb/3/3a/Cat03.jpg/320px-Cat03.jpg"


def red_square_png(side: int = 16) -> bytes:
    """A tiny solid red PNG, made with the standard library (so the example needs no image file)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = (b"\x00" + b"\xff\x00\x00" * side) * side
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = red_square_png()
PNG_B64 = base64.b64encode(PNG).decode()
print(f"made a {len(PNG)}-byte PNG to send as base64")

# %% [markdown]
# ## LangChain

# %%
from langchain_core.messages import HumanMessage

from langchain_b3n import ChatB3n

heading("LangChain: an image URL (standard content block) to gpt-4o-mini")
llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url, max_tokens=300)
message = HumanMessage(content=[
    {"type": "text", "text": "What animal is in this picture? One sentence."},
    {"type": "image", "url": IMAGE_URL},
])
print(llm.invoke([message]).text.strip())

heading("LangChain: a base64 image (OpenAI-style image_url part) to claude-3-5-sonnet-latest")
claude = ChatB3n(model="claude-3-5-sonnet-latest", api_key=api_key, base_url=base_url, max_tokens=300)
message = HumanMessage(content=[
    {"type": "text", "text": "What colour is this square? One word."},
    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
])
print(claude.invoke([message]).text.strip())

# %% [markdown]
# ## LlamaIndex

# %%
from llama_index.core.llms import ChatMessage, ImageBlock, TextBlock

from llama_index_b3n import B3n

heading("LlamaIndex: ImageBlock(url=...) to gemini-1.5-flash-latest")
li_llm = B3n(model="gemini-1.5-flash-latest", api_key=api_key, api_base=base_url, max_tokens=300)
message = ChatMessage(role="user", blocks=[
    TextBlock(text="What animal is in this picture? One sentence."),
    ImageBlock(url=IMAGE_URL),
])
print((li_llm.chat([message]).message.content or "").strip())

heading("LlamaIndex: ImageBlock(image=<bytes>) to gpt-4o")
li_llm = B3n(model="gpt-4o", api_key=api_key, api_base=base_url, max_tokens=300)
message = ChatMessage(role="user", blocks=[
    TextBlock(text="What colour is this square? One word."),
    ImageBlock(image=PNG, image_mimetype="image/png"),
])
print((li_llm.chat([message]).message.content or "").strip())

# %% [markdown]
# ## A text-only model: refused before sending

# %%
from langchain_b3n import B3nInvalidRequestError

heading("gpt-3.5-turbo cannot see images")
sent_before = b3n.emulator.count("chat") if b3n.offline else None
text_only = ChatB3n(model="gpt-3.5-turbo", api_key=api_key, base_url=base_url)
try:
    text_only.invoke([HumanMessage(content=[
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image", "url": IMAGE_URL},
    ])])
except B3nInvalidRequestError as err:
    print(f"{type(err).__name__}: {err}")
if b3n.offline:
    print(f"chat requests sent for it: {b3n.emulator.count('chat') - sent_before}")

try:
    B3n(model="gpt-3.5-turbo", api_key=api_key, api_base=base_url).chat([ChatMessage(role="user", blocks=[
        TextBlock(text="What is in this picture?"), ImageBlock(url=IMAGE_URL)])])
except B3nInvalidRequestError as err:
    print(f"LlamaIndex too: {type(err).__name__}")

# %%
b3n.cleanup()
