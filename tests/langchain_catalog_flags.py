"""Capability flags for the langchain-tests standard suites, read from the model catalog.

Shared by the unit and integration subclasses, so a standard test is only turned off where
the catalog says the model lacks the feature.
"""

from __future__ import annotations

from b3n._catalog import ModelInfo, get_model_info
from langchain_b3n import ChatB3n


class CatalogFlags:
    """Mix in before the langchain-tests base class; set ``model_id`` on the subclass."""

    model_id = "gpt-4o-mini"

    @property
    def info(self) -> ModelInfo:
        return get_model_info(self.model_id)

    @property
    def chat_model_class(self) -> type[ChatB3n]:
        return ChatB3n

    @property
    def has_tool_calling(self) -> bool:
        return self.info.tool_calling

    @property
    def has_tool_choice(self) -> bool:
        return self.info.tool_calling and self.info.tool_choice

    @property
    def has_structured_output(self) -> bool:
        return self.info.structured_output_method is not None

    @property
    def supports_json_mode(self) -> bool:
        return self.info.json_mode
