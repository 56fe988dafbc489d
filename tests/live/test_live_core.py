"""The core client, embeddings, media and account against the real B3n. Runs only when ``B3N_API_KEY`` is set.

Credentials are read at import time (``tests/conftest.py`` clears ``B3N_*`` once the session starts).
``B3N_ACCESS_TOKEN`` / ``B3N_USER_ID`` enable the account test; ``B3N_LIVE_MEDIA=1`` enables the (billed)
image and speech round trip.

    B3N_API_KEY=sk-... pytest tests/live/test_live_core.py -q
"""

from __future__ import annotations

import os

import pytest

from b3n import B3nClient, get_model_info

API_KEY = os.environ.get("B3N_API_KEY", "")
BASE_URL = os.environ.get("B3N_BASE_URL") or None
ACCESS_TOKEN = os.environ.get("B3N_ACCESS_TOKEN", "")
USER_ID = os.environ.get("B3N_USER_ID") or None
LIVE_MEDIA = os.environ.get("B3N_LIVE_MEDIA") == "1"

pytestmark = [
    pytest.mark.skipif(not API_KEY, reason="set B3N_API_KEY to run the live B3n tests"),
    pytest.mark.timeout(180),
]

SAY_1 = [{"role": "user", "content": "Reply with the single digit 1 and nothing else."}]


@pytest.fixture(scope="module")
def client() -> B3nClient:
    return B3nClient(api_key=API_KEY, base_url=BASE_URL, access_token=ACCESS_TOKEN or None, user_id=USER_ID)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "o1-mini"])
def test_chat_and_stream_agree_on_a_trivial_answer(client: B3nClient, model: str) -> None:
    reply = client.chat.create(model, SAY_1)
    assert "1" in reply.content and reply.model and reply.usage is not None
    chunks = list(client.chat.stream(model, SAY_1))
    assert "1" in "".join(c.content for c in chunks)
    assert chunks[-1].final and chunks[-1].model


@pytest.mark.parametrize("model", ["text-embedding-3-small", "text-embedding-ada-002"])
def test_embeddings_have_the_catalog_dimension(client: B3nClient, model: str) -> None:
    vectors = client.embeddings.create(["hello", "world"], model=model)
    assert len(vectors) == 2 and len(vectors[0]) == get_model_info(model).embedding_dimensions


def test_models_list_contains_documented_models(client: B3nClient) -> None:
    ids = {m.id for m in client.models.list()}
    assert ids & {"gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"}


@pytest.mark.skipif(not ACCESS_TOKEN, reason="set B3N_ACCESS_TOKEN (and B3N_USER_ID) for the account test")
def test_whoami_reports_a_balance(client: B3nClient) -> None:
    me = client.account.whoami()
    assert me.quota >= 0 and me.balance_usd >= 0


@pytest.mark.skipif(not LIVE_MEDIA, reason="set B3N_LIVE_MEDIA=1 for the billed image/speech round trip")
def test_speech_transcription_round_trip(client: B3nClient) -> None:
    audio = client.audio.speech("The quick brown fox.", response_format="mp3")
    assert "fox" in client.audio.transcribe(audio, language="en").text.lower()
