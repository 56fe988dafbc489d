"""langchain-tests ``ChatModelUnitTests`` for ChatB3n, one subclass per model family.

Capability flags come from the model catalog, so a standard test is only turned off
where the catalog says the model lacks the feature.
"""

from __future__ import annotations

import os
from typing import Any
from unittest import mock

import pytest
from langchain_core.load import dumpd, load
from langchain_tests.unit_tests import ChatModelUnitTests
from syrupy.assertion import SnapshotAssertion

from langchain_b3n import ChatB3n
from tests.langchain_catalog_flags import CatalogFlags

BASE_URL = "https://b3n.example/v1"


class _B3nUnitBase(CatalogFlags, ChatModelUnitTests):
    model_id = "gpt-4o-mini"

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": self.model_id, "base_url": BASE_URL}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"B3N_API_KEY": "sk-from-env", "B3N_BASE_URL": "https://relay.example/v1"},
            {"model": self.model_id},
            {"api_key": "sk-from-env", "base_url": "https://relay.example/v1", "model_name": self.model_id},
        )

    @pytest.mark.xfail(
        strict=True,
        reason=(
            "langchain-tests 1.1.9 calls load(allowed_objects='all'), which in langchain-core 1.8 only admits "
            "classes listed in core's own serialization mapping, so no third-party class can pass; "
            "test_serdes_round_trip below runs the same round trip with an explicit allowlist."
        ),
    )
    def test_serdes(self, model: ChatB3n, snapshot: SnapshotAssertion) -> None:
        super().test_serdes(model, snapshot)

    def test_serdes_round_trip(self, model: ChatB3n, snapshot: SnapshotAssertion) -> None:
        """The standard serdes check, with ChatB3n explicitly allowed: snapshot, no key leak, same dict()."""
        env = self.init_from_env_params[0]
        with mock.patch.dict(os.environ, env):
            ser = dumpd(model)
            assert ser == snapshot(name="serialized")
            assert ser["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["B3N_API_KEY"]}
            assert "test" not in str(ser["kwargs"]["api_key"])
            loaded = load(
                ser, valid_namespaces=model.get_lc_namespace()[:1], allowed_objects=[ChatB3n], secrets_from_env=True
            )
        assert isinstance(loaded, ChatB3n)
        assert loaded.asdict() == model.asdict()
        assert loaded.api_key is not None and loaded.api_key.get_secret_value() == env["B3N_API_KEY"]


class TestChatB3nUnitGPT(_B3nUnitBase):
    model_id = "gpt-4o-mini"


class TestChatB3nUnitClaude(_B3nUnitBase):
    model_id = "claude-3-5-sonnet-latest"


class TestChatB3nUnitGemini(_B3nUnitBase):
    model_id = "gemini-1.5-flash-latest"


class TestChatB3nUnitO1(_B3nUnitBase):
    model_id = "o1-mini"
