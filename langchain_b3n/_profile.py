"""LangChain ``ModelProfile`` from the B3n model catalog.

The catalog (``b3n._catalog``) is the single source of truth for what a B3n model can do;
this module only renames its fields to the keys of ``langchain_core``'s ``ModelProfile``.

Example:
    >>> from b3n import get_model_info
    >>> p = profile_from_info(get_model_info("claude-3-5-sonnet-latest"))
    >>> p["tool_calling"], p["structured_output"], p["max_input_tokens"]
    (True, False, 200000)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from b3n._catalog import ModelInfo

if TYPE_CHECKING:
    from langchain_core.language_models import ModelProfile


def profile_from_info(info: ModelInfo) -> ModelProfile:
    """Translate one catalog entry into a ``ModelProfile`` dict (only declared keys)."""
    tools = info.tool_calling
    profile: ModelProfile = {
        "max_input_tokens": info.context_window,
        "max_output_tokens": info.max_output_tokens,
        "text_inputs": info.text_inputs,
        "image_inputs": info.image_inputs,
        "image_url_inputs": info.image_inputs,
        "pdf_inputs": info.pdf_inputs,
        "audio_inputs": info.audio_inputs,
        "video_inputs": False,
        "image_tool_message": False,
        "pdf_tool_message": False,
        "text_outputs": True,
        "image_outputs": False,
        "audio_outputs": False,
        "video_outputs": False,
        "reasoning_output": info.reasoning,
        "tool_calling": tools,
        "tool_choice": tools and info.tool_choice,
        # the core assembles index-less / whole / fragmented tool deltas into proper chunks
        "tool_call_streaming": tools,
        # "native" structured output = a response_format the model honours
        "structured_output": info.json_schema,
        "temperature": info.temperature,
    }
    return profile
