"""The argument names LlamaIndex users type, and typos: honored, mapped, or refused with a hint.

Code written for LlamaIndex's ``OpenAILike`` / ``OpenAIEmbedding`` keeps working when the class is
swapped: their names are taken (``model_name=``, ``base_url=``, ``context_window=``, ...) or refused
with a typed error that says what to do instead. A name no class takes (``temprature=0``) is refused
with the closest valid name, at construction and per call, before anything is sent.

Example:
    >>> from llama_index_b3n import B3n
    >>> B3n(model_name="claude-3-5-sonnet-latest", context_window=32_000).metadata.context_window
    32000
    >>> B3n(temprature=0)
    Traceback (most recent call last):
    ...
    b3n._errors.B3nConfigurationError: B3n got an unknown argument 'temprature'. Did you mean 'temperature'?
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from b3n._errors import B3nConfigurationError, B3nInvalidRequestError
from b3n._settings import CREDENTIAL_LIKE, credential_like_error
from b3n._suggest import TYPO_CUTOFF, closest, did_you_mean, warn_at_caller

#: OpenAILike's capability arguments, honored as overrides of the catalog entry (``capabilities={...}``).
LLM_CAPABILITY_ARGS = {
    "context_window": "context_window",
    "is_function_calling_model": "tool_calling",
    "should_use_structured_outputs": "json_schema",
}

#: ``name: (value that means "nothing special", what to do instead)``: arguments of OpenAILike /
#: OpenAIEmbedding with no B3n equivalent. The neutral value is accepted; any other is refused.
_NO_EQUIVALENT: dict[str, tuple[Any, str]] = {
    "openai_client": (None, "B3n does not use the openai SDK; pass http_client=httpx.Client(...) to bring your "
                            "own connection settings."),
    "async_openai_client": (None, "B3n does not use the openai SDK; pass async_http_client=httpx.AsyncClient(...)."),
    "api_version": (None, "api_version is an Azure OpenAI setting; the B3n relay has no API versions."),
    "modalities": (None, "B3n chat answers in text; use B3nToolSpec (text_to_speech) for spoken output."),
    "audio_config": (None, "B3n chat answers in text; use B3nToolSpec (text_to_speech) for spoken output."),
    "tokenizer": (None, "B3n counts tokens itself (b3n.count_tokens); set max_tokens= to bound the answer."),
    "is_chat_model": (True, "B3n always uses the chat completions endpoint; complete() is served by chat."),
    "mode": ("text_search", "mode only picks between legacy ada engines; name the embedding model with model=."),
}


#: the other framework's names each class takes and maps (offered by "did you mean" when one is misspelt).
LLM_MAPPED_NAMES = frozenset({"model_name", "base_url", "reuse_client", *LLM_CAPABILITY_ARGS})
EMBEDDING_MAPPED_NAMES = frozenset({"model", "base_url", "reuse_client"})


def _neutral(name: str, value: Any) -> bool:
    neutral = _NO_EQUIVALENT[name][0]
    if value is None or (isinstance(value, str) and not value):
        return True
    value = getattr(value, "value", value)  # an enum member (OpenAIEmbeddingMode)
    return neutral is not None and type(value) is type(neutral) and bool(value == neutral)


def take_alias(data: dict[str, Any], alias: str, name: str, where: str) -> None:
    """Move ``data[alias]`` to ``data[name]`` (the same setting under the other framework's word)."""
    if alias not in data:
        return
    value = data.pop(alias)
    if data.get(name) not in (None, "") and data[name] != value:
        raise B3nConfigurationError(f"{where}: give {name}= or {alias}= (the same setting), not both.")
    data[name] = value


def refuse_unsupported(data: dict[str, Any], where: str) -> None:
    """Drop OpenAI-only arguments at their neutral value; refuse any other value with what to do instead."""
    for name in [n for n in data if n in _NO_EQUIVALENT]:
        value = data.pop(name)
        if not _neutral(name, value):
            shown = repr(value) if isinstance(value, str | int | float) else f"<{type(value).__name__}>"
            raise B3nConfigurationError(f"{where} does not take {name}={shown}: {_NO_EQUIVALENT[name][1]}")


def check_reuse_client(data: dict[str, Any], where: str) -> None:
    """``reuse_client``: B3n always reuses one pooled client per configuration; False is said, not ignored."""
    if "reuse_client" in data and data.pop("reuse_client") is False:
        warn_at_caller(
            f"{where}: reuse_client=False has no effect. B3n shares one pooled connection per configuration "
            "(it already keeps large async workloads stable: concurrency adapts to 429s)."
        )


def refuse_unknown(data: Mapping[str, Any], known: Iterable[str], where: str, mapped: Iterable[str] = ()) -> None:
    """Refuse the first argument that is not in ``known``, naming it and the closest valid (or mapped) name."""
    valid = set(known)
    for name in data:
        if name not in valid:
            if CREDENTIAL_LIKE.search(name) and not closest(name, valid | set(mapped), cutoff=TYPO_CUTOFF):
                raise credential_like_error(name, where)
            hint = did_you_mean(name, valid | set(mapped))
            raise B3nConfigurationError(f"{where} got an unknown argument {name!r}.{hint}")


def capability_overrides(named: dict[str, Any], capabilities: dict[str, Any] | None) -> dict[str, Any] | None:
    """OpenAILike's ``context_window`` / ``is_function_calling_model`` / ... as catalog overrides."""
    overrides = dict(capabilities or {})
    for arg, capability in LLM_CAPABILITY_ARGS.items():
        if arg not in named:
            continue
        value = named.pop(arg)
        if value is None:
            continue
        if capability == "context_window" and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise B3nConfigurationError(f"context_window must be a positive number of tokens, got {value!r}.")
        if capability != "context_window" and not isinstance(value, bool):
            raise B3nConfigurationError(f"{arg} must be True or False, got {value!r}.")
        if capability in overrides and overrides[capability] != value:
            raise B3nConfigurationError(
                f"B3n: {arg}={value!r} disagrees with capabilities={{{capability!r}: {overrides[capability]!r}}}."
            )
        overrides[capability] = value
    return overrides or capabilities


# ----------------------------------------------------------------------------- per call

#: per-call arguments that become named arguments of the core's request builder.
CALL_NAMED = ("temperature", "max_tokens", "stop", "tools", "tool_choice", "parallel_tool_calls", "response_format")
#: OpenAI chat request fields a call may carry as they are (what LlamaIndex's OpenAI class sends from kwargs).
CALL_PASSTHROUGH = frozenset({
    "frequency_penalty", "presence_penalty", "logit_bias", "seed", "top_p", "user", "service_tier", "metadata",
    "store", "max_completion_tokens", "prediction", "prompt_cache_key", "prompt_cache_retention",
    "prompt_cache_options", "safety_identifier", "verbosity", "web_search_options", "moderation",
})
#: per-call arguments read by the adapter itself.
CALL_OWN = frozenset({"model", "stream_options", "extra_body", "reasoning_effort", "thinking_budget", "logprobs",
                      "top_logprobs", "n"})
#: openai SDK arguments with no per-call equivalent here: what to do instead.
_CALL_REFUSED = {
    "extra_headers": "set default_headers= on the instance (a copy: llm.model_copy(update={...})).",
    "extra_query": "B3n sends no query string; put relay options in additional_kwargs= or extra_body=.",
    "timeout": "set timeout= (or total_timeout=) on the instance.",
    "functions": "legacy function calling; use chat_with_tools() / tools=.",
    "function_call": "legacy function calling; use chat_with_tools(tool_choice=...).",
    "audio": "B3n chat answers in text; use B3nToolSpec (text_to_speech) for spoken output.",
    "modalities": "B3n chat answers in text; use B3nToolSpec (text_to_speech) for spoken output.",
}
#: every per-call argument name ``B3n.chat`` / ``complete`` / their streams take.
CALL_ARGUMENTS = frozenset(CALL_NAMED) | CALL_PASSTHROUGH | CALL_OWN


def check_call_arguments(kwargs: Mapping[str, Any], where: str = "B3n.chat()") -> None:
    """Refuse, before any request, a per-call argument B3n would not send with its meaning."""
    for name in kwargs:
        if name in CALL_ARGUMENTS:
            continue
        if name in _CALL_REFUSED:
            raise B3nInvalidRequestError(f"{where} does not take {name}= per call: {_CALL_REFUSED[name]}")
        raise B3nInvalidRequestError(
            f"{where} got an unknown argument {name!r}.{did_you_mean(name, CALL_ARGUMENTS)} A field of your relay "
            "that B3n does not know goes in extra_body={...} (per call) or additional_kwargs={...} (every call)."
        )


__all__ = [
    "CALL_ARGUMENTS",
    "CALL_NAMED",
    "EMBEDDING_MAPPED_NAMES",
    "LLM_CAPABILITY_ARGS",
    "LLM_MAPPED_NAMES",
    "capability_overrides",
    "check_call_arguments",
    "check_reuse_client",
    "refuse_unknown",
    "refuse_unsupported",
    "take_alias",
]
