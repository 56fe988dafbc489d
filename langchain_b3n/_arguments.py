"""Which arguments the LangChain classes take, how ``ChatOpenAI`` / ``OpenAIEmbeddings`` names map, and the rest.

Code written for ``ChatOpenAI(base_url=...)`` or ``OpenAIEmbeddings`` keeps working when the class is swapped:
each of their arguments either has the same effect here, is mapped to ours (``request_timeout`` is ``timeout``,
``organization`` is the ``OpenAI-Organization`` header, ``chunk_size`` is ``batch_size``...), or is refused with
a typed error that names it and says what to do instead, before anything is sent. Any other unknown or misspelt
argument is refused the same way, with the closest valid name. No key reaches a request body unless the caller
put it in ``model_kwargs`` or ``extra_body`` (or passed an OpenAI chat request field per call).

Example:
    >>> from langchain_b3n import ChatB3n
    >>> ChatB3n(temprature=0)
    Traceback (most recent call last):
    ...
    langchain_b3n.errors.B3nLCInvalidRequestError: ChatB3n got an unknown argument 'temprature'. Did you mean \
'temperature'? To send a request field B3n does not know, put it in model_kwargs={...} or extra_body={...}.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from b3n._settings import CREDENTIAL_LIKE as _CREDENTIAL_LIKE
from b3n._suggest import TYPO_CUTOFF, closest, unknown_argument_error
from langchain_b3n.errors import B3nLCInvalidRequestError, to_langchain_error

#: OpenAI chat-completions fields ``ChatB3n`` declares (as ``ChatOpenAI`` does) and sends as written when set.
OPENAI_BODY_FIELDS = (
    "frequency_penalty", "presence_penalty", "logit_bias", "service_tier", "store", "verbosity",
    "prompt_cache_options",
)

#: OpenAI chat-completions request fields a call may pass (``invoke(..., user="u-1")``, ``bind(...)``); sent as
#: written, as ``ChatOpenAI`` sends them. ``max_completion_tokens`` is read as ``max_tokens``.
OPENAI_CALL_FIELDS = frozenset({
    "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "metadata", "modalities",
    "moderation", "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_options",
    "prompt_cache_retention", "safety_identifier", "service_tier", "store", "stream_options", "top_p", "seed",
    "user", "verbosity", "web_search_options",
})

_RESPONSES_ONLY = (
    "works only with OpenAI's Responses API; B3n relays serve chat completions. Remove it."
)
_OWN_CLIENTS = (
    "holds an openai SDK client; ChatB3n does not use the openai SDK. Pass your own httpx clients as "
    "http_client= / http_async_client= instead."
)

#: ``ChatOpenAI`` arguments refused when given a value other than their neutral one: name -> (neutral values, why).
CHAT_REFUSED: dict[str, tuple[tuple[Any, ...], str]] = {
    "client": ((None,), _OWN_CLIENTS),
    "async_client": ((None,), _OWN_CLIENTS),
    "root_client": ((None,), _OWN_CLIENTS),
    "root_async_client": ((None,), _OWN_CLIENTS),
    "default_query": (
        (None, {}),
        "is not supported: B3n relays take no query parameters. If a gateway in front needs them, pass "
        "http_client=httpx.Client(params={...}) (and http_async_client=httpx.AsyncClient(params={...})).",
    ),
    "include_response_headers": (
        (False, None),
        "is not supported. Pass include_request_id=True to get the relay's request id in "
        "response_metadata['request_id'].",
    ),
    "http_socket_options": (
        (None,),
        "is not supported; pass http_client=httpx.Client(transport=httpx.HTTPTransport(socket_options=...)).",
    ),
    "use_responses_api": ((False, None), _RESPONSES_ONLY),
    "use_previous_response_id": ((False, None), _RESPONSES_ONLY),
    "context_management": ((None,), _RESPONSES_ONLY),
    "include": ((None,), _RESPONSES_ONLY),
    "truncation": ((None,), _RESPONSES_ONLY),
}

#: ``OpenAIEmbeddings`` arguments refused when given a value other than their neutral one.
EMBEDDINGS_REFUSED: dict[str, tuple[tuple[Any, ...], str]] = {
    "client": ((None,), _OWN_CLIENTS),
    "async_client": ((None,), _OWN_CLIENTS),
    "default_query": CHAT_REFUSED["default_query"],
    "deployment": ((None,), "is for Azure OpenAI; B3n takes the model name as model=."),
    "openai_api_version": ((None,), "is for Azure OpenAI; B3n has no API versions. Remove it."),
    "api_version": ((None,), "is for Azure OpenAI; B3n has no API versions. Remove it."),
    "openai_api_type": ((None,), "is for Azure OpenAI; B3n has one API type. Remove it."),
    "allowed_special": ((None,), "is a tiktoken option; B3nEmbeddings sends text, never token ids. Remove it."),
    "disallowed_special": ((None,), "is a tiktoken option; B3nEmbeddings sends text, never token ids. Remove it."),
    "skip_empty": (
        (False, None),
        "is not supported: B3nEmbeddings embeds an empty text as ' ' so that every text gets a vector.",
    ),
    "embedding_ctx_length": (
        (None, 8191),
        "is not supported: B3nEmbeddings splits texts over the model's 8,191-token context itself; choose with "
        "long_inputs='split' (default) or 'refuse'.",
    ),
    "retry_min_seconds": ((None,), "is not supported: retries back off by themselves and honour Retry-After."),
    "retry_max_seconds": ((None,), "is not supported: retries back off by themselves and honour Retry-After."),
    "headers": ((None,), "is not supported; pass default_headers={...}."),
}

#: ``OpenAIEmbeddings`` arguments accepted for drop-in code that have no effect here (documented).
EMBEDDINGS_ACCEPTED = frozenset({"tiktoken_enabled", "tiktoken_model_name", "check_embedding_ctx_length"})

_CREDENTIAL_HINT = (
    "It looks like a credential, so it is neither kept nor sent. Pass the B3n key as api_key= (openai_api_key= is "
    "the same), or set B3N_API_KEY."
)
#: the hint for an unknown argument of a class that sends requests.
EXTRA_HINT = "To send a request field B3n does not know, put it in model_kwargs={...} or extra_body={...}."


def check_arguments(
    where: str,
    given: Mapping[str, Any],
    known: Iterable[str],
    refused: Mapping[str, tuple[tuple[Any, ...], str]],
    *,
    extra_hint: str = EXTRA_HINT,
) -> None:
    """Raise for the first argument in ``given`` that is refused or unknown (typed, names it, suggests a name)."""
    names = frozenset(known)
    for name, value in given.items():
        if name in refused:
            neutral, why = refused[name]
            if not any(value is n or (type(value) is type(n) and value == n) for n in neutral):
                raise B3nLCInvalidRequestError(f"{where}: {name} {why}")
        elif name not in names:
            if _CREDENTIAL_LIKE.search(name) and not closest(name, names, cutoff=TYPO_CUTOFF):
                raise to_langchain_error(unknown_argument_error(
                    name, (), where=where, extra_hint=_CREDENTIAL_HINT))
            raise to_langchain_error(unknown_argument_error(name, names, where=where, extra_hint=extra_hint))


__all__ = [
    "CHAT_REFUSED",
    "EMBEDDINGS_ACCEPTED",
    "EMBEDDINGS_REFUSED",
    "EXTRA_HINT",
    "OPENAI_BODY_FIELDS",
    "OPENAI_CALL_FIELDS",
    "check_arguments",
]
