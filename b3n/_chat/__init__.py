"""Chat completions: request building, response parsing and stream assembly, shared by both facades."""

from b3n._chat.request import (
    ChatRequest,
    build_chat_request,
    image_data_part,
    image_url_part,
    normalize_tool_choice,
    text_part,
    tool_call_to_wire,
    tool_spec,
)
from b3n._chat.response import parse_chat_completion, parse_usage
from b3n._chat.stream import StreamAssembler, completion_to_chunks
from b3n._chat.types import ChatChunk, ChatCompletion, ToolCall, ToolCallDelta, Usage

__all__ = [
    "ChatChunk",
    "ChatCompletion",
    "ChatRequest",
    "StreamAssembler",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "build_chat_request",
    "completion_to_chunks",
    "image_data_part",
    "image_url_part",
    "normalize_tool_choice",
    "parse_chat_completion",
    "parse_usage",
    "text_part",
    "tool_call_to_wire",
    "tool_spec",
]
