"""``ChatB3n``: every B3n chat model (GPT, o1, Claude, Gemini, reverse models) as a LangChain chat model.

The same chain works for every model: the model catalog adapts each request (o1 gets
its system prompt folded in and its stream served from one call, Claude's temperature
is clamped...), relay quirks are normalised by the shared core, and the structured
output method defaults to one the model actually honours.

Example (offline, against the bundled emulator):
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     llm = ChatB3n(model="claude-3-5-sonnet-latest", api_key="sk-test", base_url=emu.base_url)
    ...     reply = llm.invoke("say 1")
    >>> reply.content, reply.response_metadata["model_provider"]
    ('1', 'b3n')
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LangSmithParams, LanguageModelInput, ModelProfile
from langchain_core.language_models.chat_models import BaseChatModel, agenerate_from_stream, generate_from_stream
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompt_values import ChatPromptValue, PromptValue
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
    RunnableMap,
    RunnablePassthrough,
)
from langchain_core.utils.function_calling import convert_to_openai_function, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import AliasChoices, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from b3n._catalog import ModelInfo, get_model_info
from b3n._errors import B3nConfigurationError, B3nError, B3nStructuredOutputError
from b3n._settings import CHAT_REQUEST_OPTIONS, chat_request_options
from b3n._suggest import warn_unknown_model
from b3n._version import __version__
from langchain_b3n._arguments import CHAT_REFUSED, OPENAI_BODY_FIELDS, OPENAI_CALL_FIELDS, check_arguments
from langchain_b3n._base import B3nChatOptions
from langchain_b3n._profile import profile_from_info
from langchain_b3n.errors import (
    B3nLCInvalidRequestError,
    B3nLCRefusalError,
    B3nStructuredOutputWarning,
    alangchain_errors,
    alangchain_errors_iter,
    langchain_errors,
    langchain_errors_iter,
    to_langchain_error,
)

if TYPE_CHECKING:  # langchain_core's tools and output parsers load on first use: ~13 ms off `import langchain_b3n`
    from langchain_core.output_parsers.base import OutputParserLike
    from langchain_core.tools import BaseTool

    from b3n._adaptive import AdaptiveLimiter
    from b3n._chat import ChatCompletion, ChatRequest

# What only a call needs (the core request builder and response types, message conversion, structured output:
# b3n._chat, langchain_b3n._messages, langchain_b3n._structured) is imported where it is used, on the first call
# (tests/unit/test_import_cost.py keeps them out of `from langchain_b3n import ChatB3n`).

StructuredMethod = Literal["function_calling", "json_mode", "json_schema"]
_METHODS: tuple[str, ...] = ("function_calling", "json_mode", "json_schema")
#: call kwargs that never reach the payload.
_INTERNAL_KWARGS = ("stream", "ls_structured_output_format", "structured_output_format")
_ROLE_NAMES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


#: what a call may pass: the arguments ``_request`` reads by name, and request fields sent as written.
_CALL_FIELDS = frozenset({
    "model", "temperature", "max_tokens", "max_completion_tokens", "stream_usage", "tools", "tool_choice",
    "parallel_tool_calls", "response_format", "stop", *CHAT_REQUEST_OPTIONS, "extra_body", *OPENAI_CALL_FIELDS,
    *OPENAI_BODY_FIELDS,
})


def _map_reasoning(data: dict[str, Any]) -> None:
    """``reasoning={"effort": x}`` (langchain-openai's Responses API form) is ``reasoning_effort=x``; else refused."""
    reasoning = data.pop("reasoning")
    if reasoning is None:
        return
    if not isinstance(reasoning, Mapping) or set(reasoning) - {"effort"}:
        raise B3nLCInvalidRequestError(
            "ChatB3n: reasoning= is OpenAI's Responses API form; B3n relays serve chat completions, where only the "
            "effort exists. Pass reasoning_effort='low' / 'medium' / 'high' instead (reasoning summaries are not "
            "available)."
        )
    if "effort" in reasoning:
        if data.get("reasoning_effort") not in (None, reasoning["effort"]):
            raise B3nLCInvalidRequestError("ChatB3n: reasoning['effort'] and reasoning_effort disagree; give one.")
        data["reasoning_effort"] = reasoning["effort"]


def _tool_spec(tool: Any, strict: bool | None) -> dict[str, Any]:
    """The OpenAI tool for ``tool``; with ``strict=True`` its parameters obey OpenAI strict mode (no ``default``,
    ``additionalProperties: false``, every property required)."""
    from b3n._chat.structured import strict_json_schema

    spec = convert_to_openai_tool(tool, strict=strict)
    if strict and isinstance(spec.get("function"), dict) and isinstance(spec["function"].get("parameters"), dict):
        spec["function"]["parameters"] = strict_json_schema(spec["function"]["parameters"])
    return spec


def _drop_disabled(payload: dict[str, Any], disabled: Mapping[str, Any]) -> None:
    for key, values in disabled.items():
        if key in ("model", "messages") or key not in payload:
            continue
        if values is None or payload[key] in values:
            del payload[key]


class ChatB3n(B3nChatOptions, BaseChatModel):
    """A B3n-AI chat model (any model the relay serves) for LangChain.

    Construction needs no key and does no I/O; a missing key fails at the first call with
    a clear ``B3nConfigurationError``. Every error is both a ``B3nError`` and the matching
    ``langchain_core.exceptions.Model*Error``.

    Setup: ``pip install "b3n-integrations[langchain]"`` and ``export B3N_API_KEY=sk-...``.

    Args:
        model: the model id, e.g. ``"gpt-4o-mini"``, ``"claude-3-5-sonnet-latest"``,
            ``"gemini-1.5-flash-latest"``, ``"o1-mini"`` (also accepted as ``model_name``).
        api_key: the ``sk-`` key (default: ``B3N_API_KEY``).
        base_url: the relay URL ending in ``/v1`` (default: ``B3N_BASE_URL``, else ``https://api.b3n.fun/v1``).
        temperature: sampling temperature; adapted per model (clamped to 1 for Claude, not sent to o1).
        max_tokens: the most tokens to generate (sent as ``max_completion_tokens`` where the model needs it).
        top_p: nucleus sampling.
        seed: a seed for models that take one.
        streaming: ``invoke`` streams internally.
        stream_usage: ask for token usage on streams.
        reasoning_effort: ``"minimal"`` to ``"high"`` for models that take it; dropped with a warning elsewhere.
        thinking_budget: thinking tokens, where the relay maps a budget (Claude ``-thinking``, Gemini 2.5).
        logprobs: return per-token log probabilities (GPT models).
        top_logprobs: alternatives per token, 0 to 20 (needs ``logprobs``).
        n: choices per call (OpenAI models; never streamed).
        extra_body: fields merged into the request body at the top level.
        include_request_id: put the relay's request id in ``response_metadata["request_id"]``.
        capabilities: catalog overrides for models the catalog gets wrong or does not know,
            e.g. ``{"tool_calling": True, "image_inputs": True}``.
        model_kwargs: extra payload fields sent with every request.
        timeout: seconds for connecting, for the response and for each read.
        stream_idle_timeout: longest silence between two stream chunks (default: ``timeout``).
        total_timeout: cap on a whole call, retries included.
        max_retries: retries of transient failures; 0 turns them off.
        default_headers: extra headers on every request.
        verify: TLS verification: ``False`` or a CA bundle path.
        proxy: an explicit proxy URL.
        relay_probe_cache: adapt requests up front to what ``b3n probe`` found out about this relay.
        http_client: your own ``httpx.Client``.
        http_async_client: your own ``httpx.AsyncClient``.

    Raises:
        B3nConfigurationError: a setting is malformed (construction does no I/O; a missing key fails at the
            first call).

    ``stop`` (default stop sequences) is also accepted; the chat request options are per-call arguments too
    (``llm.invoke(prompt, reasoning_effort="high")``).

    Example (offline, against the bundled emulator):
        >>> from b3n.testing import Emulator
        >>> from langchain_core.tools import tool
        >>> @tool
        ... def magic_function(input: int) -> int:
        ...     '''Apply a magic function to an input.'''
        ...     return input + 2
        >>> with Emulator() as emu:
        ...     llm = ChatB3n(model="gemini-1.5-flash-latest", api_key="sk-test", base_url=emu.base_url)
        ...     msg = llm.bind_tools([magic_function]).invoke("What is magic_function(3)?")
        >>> msg.tool_calls[0]["name"], msg.tool_calls[0]["args"]
        ('magic_function', {'input': 3})
    """

    model_name: str = Field(default="gpt-4o-mini", alias="model")
    """Model id as B3n names it."""
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, validation_alias=AliasChoices("max_tokens", "max_completion_tokens"))
    """Most output tokens (``max_completion_tokens=`` is the same); sent under the name the model's route takes."""
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    """Default stop sequences."""
    streaming: bool = False
    """Stream internally on ``invoke``."""
    stream_usage: bool = True
    """Ask for token usage on streams (``stream_options.include_usage``)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra payload fields sent with every request."""
    capabilities: dict[str, Any] | None = None
    """Overrides of the catalog entry (field names of ``b3n.ModelInfo``)."""
    frequency_penalty: float | None = None
    """OpenAI ``frequency_penalty``, sent as written when set."""
    presence_penalty: float | None = None
    """OpenAI ``presence_penalty``, sent as written when set."""
    logit_bias: dict[int, int] | None = None
    """OpenAI ``logit_bias`` (token id -> bias), sent as written when set."""
    service_tier: str | None = None
    """OpenAI ``service_tier``, sent as written when set."""
    store: bool | None = None
    """OpenAI ``store``, sent as written when set."""
    verbosity: str | None = None
    """OpenAI ``verbosity`` (gpt-5 models), sent as written when set."""
    prompt_cache_options: dict[str, Any] | None = None
    """OpenAI ``prompt_cache_options``, sent as written when set."""
    disabled_params: dict[str, Any] | None = None
    """Request fields never to send, e.g. ``{"parallel_tool_calls": None}`` (None: never; a list: never with those
    values), for gateways that reject them. Applies to every request of this instance."""
    tiktoken_model_name: str | None = None
    """Count tokens (``get_num_tokens*``) as this model does, e.g. for a model the catalog does not know."""

    model_config = ConfigDict(
        populate_by_name=True, arbitrary_types_allowed=True, protected_namespaces=(), defer_build=False
    )

    b3n_cache_fields: ClassVar[frozenset[str]] = frozenset({"capabilities"})
    b3n_refused_arguments: ClassVar[Mapping[str, tuple[tuple[Any, ...], str]]] = CHAT_REFUSED

    _infos: dict[str, ModelInfo] = PrivateAttr(default_factory=dict)

    # ------------------------------------------------------------------ construction

    def __init__(self, /, **data: Any) -> None:
        if "reasoning" in data:
            _map_reasoning(data)
        super().__init__(**data)
        if not self.catalog_info().known:
            warn_unknown_model(self.model_name, "chat")
        if self.n is not None and self.n > 1 and self.streaming:  # as ChatOpenAI refuses it, but typed
            raise B3nLCInvalidRequestError(
                f"n={self.n} cannot be combined with streaming=True: several choices come from one non-streamed "
                "call. Drop streaming=True, or ask for one choice."
            )

    @field_validator("capabilities")
    @classmethod
    def _b3n_check_capabilities(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value:
            get_model_info("gpt-4o-mini", value)  # raises on unknown capability names
        return value

    @model_validator(mode="after")
    def _b3n_record_version(self) -> ChatB3n:
        add_version = getattr(self, "_add_version", None)
        if add_version is not None:
            add_version("b3n-integrations", __version__)
        return self

    def _reset_caches(self) -> None:
        super()._reset_caches()
        self._infos = {}

    @property
    def _llm_type(self) -> str:
        return "b3n-chat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model_name": self.model_name}
        for key in ("temperature", "max_tokens", "top_p", "seed", "stop", "reasoning_effort", "thinking_budget", "n"):
            value = getattr(self, key)
            if value is not None:
                params[key] = value
        if self.streaming:
            params["streaming"] = True
        if self.model_kwargs:
            params["model_kwargs"] = self.model_kwargs
        return params

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        model = kwargs.get("model")
        params = LangSmithParams(
            ls_provider="b3n",
            ls_model_name=model if isinstance(model, str) and model else self.model_name,
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if isinstance(temperature, int | float):
            params["ls_temperature"] = float(temperature)
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        stop = stop or kwargs.get("stop") or self.stop
        if stop:
            params["ls_stop"] = [stop] if isinstance(stop, str) else list(stop)
        return params

    def _convert_input(self, model_input: LanguageModelInput) -> PromptValue:
        from langchain_b3n._messages import check_image_blocks

        prompt = super()._convert_input(model_input)
        if isinstance(prompt, ChatPromptValue):
            try:
                check_image_blocks(prompt.messages)
            except B3nError as exc:
                raise to_langchain_error(exc) from None
        return prompt

    def _resolve_model_profile(self) -> ModelProfile | None:
        return profile_from_info(self.catalog_info())

    # ------------------------------------------------------------------ helpers

    def catalog_info(self, model: str | None = None) -> ModelInfo:
        """The catalog entry (with ``capabilities`` applied) for ``model`` or this instance's model."""
        name = model or self.model_name
        info = self._infos.get(name)
        if info is None:
            info = get_model_info(name, self.capabilities)
            self._infos[name] = info
        return info

    def _default_extra(self, call_kwargs: dict[str, Any]) -> dict[str, Any]:
        """Extra payload fields: ``model_kwargs``, the OpenAI fields set on the instance, then what the call passed."""
        extra = dict(self.model_kwargs)
        if self.extra_body:
            extra["extra_body"] = {**self.extra_body, **(call_kwargs.pop("extra_body", None) or {})}
        for name in ("top_p", "seed", *OPENAI_BODY_FIELDS):
            value = getattr(self, name)
            if value is not None:
                extra.setdefault(name, value)
        extra.update(call_kwargs)
        return extra

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any], *, stream: bool
    ) -> ChatRequest:
        """One core request from LangChain messages and call kwargs (validated, model-adapted)."""
        from b3n._chat import build_chat_request
        from langchain_b3n._messages import messages_to_wire

        for key in _INTERNAL_KWARGS:
            kwargs.pop(key, None)
        model = kwargs.pop("model", None) or self.model_name
        temperature = kwargs.pop("temperature", self.temperature)
        max_tokens = kwargs.pop("max_tokens", None)
        completion_tokens = kwargs.pop("max_completion_tokens", None)
        max_tokens = max_tokens if max_tokens is not None else completion_tokens
        max_tokens = max_tokens if max_tokens is not None else self.max_tokens
        stream_usage = kwargs.pop("stream_usage", self.stream_usage)
        tools = kwargs.pop("tools", None)
        tool_choice = kwargs.pop("tool_choice", None)
        parallel = kwargs.pop("parallel_tool_calls", None)
        response_format = kwargs.pop("response_format", None)
        options = chat_request_options(self, kwargs)
        if stop is None:
            stop = kwargs.pop("stop", None)
        else:
            kwargs.pop("stop", None)
        check_arguments(
            f"{type(self).__name__} call", kwargs, _CALL_FIELDS, {},
            extra_hint="To send a request field B3n does not know, pass extra_body={...}.",
        )
        extra = self._default_extra(kwargs)
        request = build_chat_request(
            model,
            messages_to_wire(messages),
            info=self.catalog_info(model),
            temperature=temperature,
            max_tokens=max_tokens,
            stop=stop if stop is not None else self.stop,
            tools=tools,
            tool_choice=tool_choice,
            parallel_tool_calls=parallel,
            response_format=response_format,
            stream=stream,
            include_usage=bool(stream_usage),
            extra=extra,
            **options,
        )
        if self.disabled_params:
            _drop_disabled(request.payload, self.disabled_params)
        return request

    def _streams_on_generate(self, kwargs: dict[str, Any]) -> bool:
        explicit = kwargs.get("stream")
        if explicit is not None:
            return bool(explicit)
        if (kwargs.get("n") or self.n or 1) > 1:
            return False  # several choices come from one non-streamed call
        if not self.streaming or self.disable_streaming is True:
            return False
        return not (self.disable_streaming == "tool_calling" and kwargs.get("tools"))

    def _result(self, completion: ChatCompletion) -> ChatResult:
        """One generation per choice (``n`` > 1: all of them, usage on the first, as ChatOpenAI does)."""
        from langchain_b3n._messages import completion_to_message

        generations = []
        for choice in (completion, *completion.more_choices):
            message = completion_to_message(choice)
            if self.include_request_id and completion.request_id:
                message.response_metadata["request_id"] = completion.request_id
            generations.append(ChatGeneration(message=message, generation_info={"finish_reason": choice.finish_reason}))
        llm_output: dict[str, Any] = {"model_name": completion.model}
        if completion.usage is not None:
            llm_output["token_usage"] = completion.usage.as_dict()
        return ChatResult(generations=generations, llm_output=llm_output)

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        totals: dict[str, int] = {}
        model_name = self.model_name
        for output in llm_outputs:
            if not output:
                continue
            model_name = output.get("model_name") or model_name
            for key, value in (output.get("token_usage") or {}).items():
                totals[key] = totals.get(key, 0) + value
        return {"token_usage": totals, "model_name": model_name}

    # ------------------------------------------------------------------ token counting

    def get_token_ids(self, text: str) -> list[int]:
        """tiktoken ids of ``text`` for this model, when its encoding file is on this machine.

        Counting never needs ids (see :meth:`get_num_tokens`); without the encoding file this raises
        ``B3nConfigurationError`` saying how to make it available.
        """
        if self.custom_get_token_ids is not None:
            return self.custom_get_token_ids(text)
        from b3n._tokens import token_counter  # deferred: keeps `import langchain_b3n` cheap
        ids = token_counter(self.tiktoken_model_name or self.model_name).token_ids(text)
        if ids is None:
            raise to_langchain_error(
                B3nConfigurationError(
                    f"No tokenizer file for {self.model_name!r} on this machine, so token ids are unavailable "
                    "(counts are estimated instead). Install tiktoken (pip install 'b3n-integrations[tokens]') "
                    "and fill its cache once with network access, or point TIKTOKEN_CACHE_DIR at a copy."
                )
            )
        return ids

    def get_num_tokens(self, text: str) -> int:
        """Tokens in ``text`` for this model: tiktoken's count for GPT models when its file is on this
        machine, else a calibrated estimate (Claude and Gemini always; see the docs' tokens and cost page).
        Never does I/O.

        Example:
            >>> ChatB3n(model="claude-3-5-sonnet-latest").get_num_tokens("Hello, world!") > 0
            True
        """
        if self.custom_get_token_ids is not None:
            return len(self.custom_get_token_ids(text))
        from b3n._tokens import token_counter  # deferred: keeps `import langchain_b3n` cheap
        return token_counter(self.tiktoken_model_name or self.model_name).count_text(text)

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Sequence[Any] | None = None) -> int:
        """Prompt tokens of ``messages`` (and ``tools``) as OpenAI bills them; works for every B3n model.

        Usable as ``trim_messages(..., token_counter=llm)``; never does I/O and never raises on content
        it cannot send (such blocks are counted as text).

        Example:
            >>> from langchain_core.messages import HumanMessage, SystemMessage
            >>> llm = ChatB3n(model="gemini-1.5-flash-latest")
            >>> llm.get_num_tokens_from_messages([SystemMessage("Be terse."), HumanMessage("hi")]) > 5
            True
        """
        from b3n._tokens import token_counter  # deferred: keeps `import langchain_b3n` cheap
        from langchain_b3n._messages import messages_to_wire

        counter = token_counter(self.tiktoken_model_name or self.model_name)
        try:
            wire: list[dict[str, Any]] = messages_to_wire(messages)
        except (B3nError, ValueError, TypeError):
            wire = [{"role": _ROLE_NAMES.get(m.type, m.type), "content": m.text} for m in messages]
        wire_tools: list[dict[str, Any]] = []
        for tool in tools or ():
            try:
                wire_tools.append(convert_to_openai_tool(tool))
            except (ValueError, TypeError, NotImplementedError):
                continue
        return counter.count_messages(wire, wire_tools or None)

    # ------------------------------------------------------------------ batches

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """``Runnable.batch`` whose calls find the relay's per-key limit by themselves.

        Every request of the batch (retries included) takes a slot of the process's adaptive limiter
        for this relay and key (``b3n._adaptive``): it starts at the config's ``max_concurrency``
        (16 when unset), drops to what the relay admits on a 429 (the refused call waits its
        ``Retry-After``, then a free slot: a 429 was never processed, so nothing billed is repeated),
        and grows again while clean. Answers come back in input order, each input sent once.

        Example:
            >>> from b3n.testing import Emulator
            >>> with Emulator() as emu:
            ...     llm = ChatB3n(model="gpt-4o-mini", api_key="sk-test", base_url=emu.base_url)
            ...     replies = llm.batch(["say 1", "say 2", "say 3"], config={"max_concurrency": 2})
            >>> [r.content for r in replies]
            ['1', '2', '3']
        """
        from b3n._adaptive import gating

        with gating(self._batch_limiter(config)):
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """asyncio twin of :meth:`batch` (same limiter: sync and async batches share the key's budget)."""
        from b3n._adaptive import gating

        with gating(self._batch_limiter(config)):
            return await super().abatch(inputs, config, return_exceptions=return_exceptions, **kwargs)

    def _batch_limiter(self, config: RunnableConfig | list[RunnableConfig] | None) -> AdaptiveLimiter:
        from b3n._adaptive import batch_limiter

        first = config[0] if isinstance(config, list) and config else config
        ceiling = first.get("max_concurrency") if isinstance(first, dict) else None
        settings = self.b3n_config()
        key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        return batch_limiter(settings.base_url, key, ceiling)

    # ------------------------------------------------------------------ generation

    @langchain_errors
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._streams_on_generate(kwargs):
            return generate_from_stream(self._stream(messages, stop=stop, run_manager=run_manager, **kwargs))
        request = self._request(messages, stop, kwargs, stream=False)
        return self._result(self.client.chat.send(request))

    @langchain_errors_iter
    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        from langchain_b3n._messages import StreamConverter

        request = self._request(messages, stop, kwargs, stream=True)
        converter = StreamConverter(v1=self.output_version == "v1")
        for chunk in self.client.chat.send_stream(request):
            generation = converter.convert(chunk)
            if self.include_request_id and chunk.final and chunk.request_id:
                generation.message.response_metadata["request_id"] = chunk.request_id
            if run_manager is not None:
                run_manager.on_llm_new_token(generation.text, chunk=generation)
            yield generation

    @alangchain_errors
    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._streams_on_generate(kwargs):
            return await agenerate_from_stream(self._astream(messages, stop=stop, run_manager=run_manager, **kwargs))
        request = self._request(messages, stop, kwargs, stream=False)
        return self._result(await self.async_client.chat.send(request))

    @alangchain_errors_iter
    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        from langchain_b3n._messages import StreamConverter

        request = self._request(messages, stop, kwargs, stream=True)
        converter = StreamConverter(v1=self.output_version == "v1")
        async for chunk in self.async_client.chat.send_stream(request):
            generation = converter.convert(chunk)
            if self.include_request_id and chunk.final and chunk.request_id:
                generation.message.response_metadata["request_id"] = chunk.request_id
            if run_manager is not None:
                await run_manager.on_llm_new_token(generation.text, chunk=generation)
            yield generation

    # ------------------------------------------------------------------ tools

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, functions, pydantic models, TypedDicts or OpenAI/JSON schemas).

        Args:
            tools: the tools.
            tool_choice: ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True`` (must call a tool),
                or a tool name (must call that tool).
            strict: forwarded as the function ``strict`` flag (models that ignore it still work).
            parallel_tool_calls: sent only when set (and only to models whose relay accepts it).

        Example:
            >>> from pydantic import BaseModel
            >>> class GetWeather(BaseModel):
            ...     '''Get the weather in a city.'''
            ...     city: str
            >>> bound = ChatB3n(model="gpt-4o-mini").bind_tools([GetWeather], tool_choice="any")
            >>> bound.kwargs["tool_choice"], "parallel_tool_calls" in bound.kwargs
            ('required', False)
        """
        from b3n._chat import normalize_tool_choice

        formatted = [_tool_spec(t, strict) for t in tools]
        for original, spec in zip(tools, formatted, strict=True):
            if isinstance(original, dict) and isinstance(original.get("cache_control"), dict):
                spec["cache_control"] = dict(original["cache_control"])  # Claude prompt caching
        if tool_choice is not None:
            names = [t["function"]["name"] for t in formatted]
            try:
                choice = normalize_tool_choice(tool_choice, names)
            except B3nError as exc:
                raise to_langchain_error(exc) from None
            if choice is not None:
                kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    # ------------------------------------------------------------------ structured output

    def _structured_method(self, requested: str | None) -> StructuredMethod:
        info = self.catalog_info()
        default = info.structured_output_method
        if default is None:
            raise B3nLCInvalidRequestError(
                f"Model {info.name!r} supports neither tool calling nor JSON mode on B3n, so it cannot return "
                "structured output. Use a model such as gpt-4o-mini, claude-3-5-sonnet-latest or "
                "gemini-1.5-flash-latest for with_structured_output."
            )
        if requested is None:
            return default
        if requested not in _METHODS:
            raise B3nLCInvalidRequestError(
                f"method={requested!r} is not understood; use one of {list(_METHODS)} or leave it unset."
            )
        supported = {
            "json_schema": info.json_schema,
            "function_calling": info.tool_calling,
            "json_mode": info.json_mode,
        }
        if supported[requested]:
            return cast(StructuredMethod, requested)
        warnings.warn(
            f"Model {info.name!r} does not honour method={requested!r} on B3n; using {default!r} instead.",
            B3nStructuredOutputWarning,
            stacklevel=3,
        )
        return default

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredMethod | None = None,
        include_raw: bool = False,
        strict: bool | None = None,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """A runnable returning output that matches ``schema`` (pydantic v2/v1 class, TypedDict or JSON schema).

        Args:
            schema: the output schema (``json_mode`` also accepts None: any JSON object).
            method: ``"function_calling"``, ``"json_schema"`` or ``"json_mode"``; the default is the
                one the model honours (``json_schema`` for GPT-4o models, ``function_calling`` for
                Claude and Gemini, which ignore ``response_format``). A method the model does not
                honour is replaced with the default and a ``B3nStructuredOutputWarning``.
            include_raw: return ``{"raw", "parsed", "parsing_error"}`` instead of raising on parse errors.
            strict: forwarded to the tool / JSON schema ``strict`` flag (and to ``tools``).
            tools: tools the model may call instead of answering (as with langchain-openai); needs
                ``include_raw=True``: after a tool call ``parsed`` is None and the calls are on ``raw``. With
                ``function_calling`` the schema is one more tool and the model must call one of them.

        Example:
            >>> from pydantic import BaseModel
            >>> class Joke(BaseModel):
            ...     '''Joke to tell user.'''
            ...     setup: str
            ...     punchline: str
            >>> runnable = ChatB3n(model="claude-3-5-sonnet-latest").with_structured_output(Joke)
            >>> runnable.first.kwargs["tool_choice"]
            {'type': 'function', 'function': {'name': 'Joke'}}
        """
        from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
        from langchain_core.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser

        from b3n._chat.structured import json_schema_format

        if kwargs:
            raise B3nLCInvalidRequestError(f"with_structured_output got unsupported arguments {sorted(kwargs)}.")
        chosen = self._structured_method(method)
        if schema is None and chosen != "json_mode":
            raise B3nLCInvalidRequestError(
                f"schema is required for method={chosen!r}; pass a pydantic class, TypedDict or JSON schema."
            )
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        ls_format: dict[str, Any] = {"kwargs": {"method": chosen, "strict": strict}, "schema": schema}
        llm: Runnable[LanguageModelInput, AIMessage]
        parser: OutputParserLike[Any]
        name: str | None = None
        if tools:
            return self._structured_with_tools(schema, chosen, include_raw, strict, tools, ls_format)
        if chosen == "function_calling":
            assert schema is not None
            tool = _tool_spec(schema, strict)
            name = tool["function"]["name"]
            llm = self.bind_tools([tool], tool_choice=name, ls_structured_output_format=ls_format)
            if is_pydantic:
                parser = PydanticToolsParser(tools=[cast(type, schema)], first_tool_only=True)
            else:
                parser = JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        else:
            if chosen == "json_schema":
                assert schema is not None
                fn = convert_to_openai_function(schema)
                response_format = json_schema_format(
                    fn["name"], fn["parameters"], strict=bool(strict), description=fn.get("description")
                )
            else:
                response_format = {"type": "json_object"}
            if schema is None:
                llm = self.bind(response_format=response_format)
            else:
                llm = self.bind(response_format=response_format, ls_structured_output_format=ls_format)
            parser = PydanticOutputParser(pydantic_object=cast(Any, schema)) if is_pydantic else JsonOutputParser()
        guarded: Runnable[Any, Any] = _refusal_guard(name) | parser
        if not include_raw:
            return llm | guarded
        parse = RunnablePassthrough.assign(parsed=itemgetter("raw") | guarded, parsing_error=lambda _: None)
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks([fallback], exception_key="parsing_error")


    def _structured_with_tools(
        self,
        schema: dict[str, Any] | type | None,
        method: StructuredMethod,
        include_raw: bool,
        strict: bool | None,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        ls_format: dict[str, Any],
    ) -> Runnable[LanguageModelInput, dict[str, Any]]:
        """``with_structured_output(schema, tools=[...], include_raw=True)``: the answer or the model's tool calls."""
        from b3n._chat.structured import json_schema_format
        from langchain_b3n._structured import answer_or_none

        if not include_raw:
            raise B3nLCInvalidRequestError(
                "with_structured_output(tools=[...]) needs include_raw=True: when the model calls one of the tools, "
                "the calls are on the 'raw' message and 'parsed' is None."
            )
        if schema is None:
            raise B3nLCInvalidRequestError("with_structured_output(tools=[...]) needs a schema for the answer.")
        pydantic_schema = schema if isinstance(schema, type) and is_basemodel_subclass(schema) else None
        llm: Runnable[LanguageModelInput, AIMessage]
        if method == "function_calling":
            answer_tool = _tool_spec(schema, strict)
            name = answer_tool["function"]["name"]
            llm = self.bind_tools([*tools, answer_tool], tool_choice="any", strict=strict,
                                  ls_structured_output_format=ls_format)
            parse = answer_or_none(pydantic_schema, tool_name=name)
        else:
            if method == "json_schema":
                fn = convert_to_openai_function(schema)
                response_format = json_schema_format(
                    fn["name"], fn["parameters"], strict=bool(strict), description=fn.get("description")
                )
            else:
                response_format = {"type": "json_object"}
            llm = self.bind_tools(tools, strict=strict, response_format=response_format,
                                  ls_structured_output_format=ls_format)
            parse = answer_or_none(pydantic_schema)
        guarded: Runnable[Any, Any] = _refusal_guard() | RunnableLambda(parse)
        attempt = RunnablePassthrough.assign(parsed=itemgetter("raw") | guarded, parsing_error=lambda _: None)
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | attempt.with_fallbacks([fallback], exception_key="parsing_error")


class _RefusalWatch:
    """Collects the refusal text and finish reason of a message or a stream of chunks."""

    def __init__(self, tool: str | None = None) -> None:
        self.tool = tool
        self.called = False
        self.refusal = ""
        self.finish_reason: str | None = None
        self.last: BaseMessage | None = None

    def see(self, message: BaseMessage) -> BaseMessage:
        self.called = self.called or bool(getattr(message, "tool_calls", None)
                                          or getattr(message, "tool_call_chunks", None))
        self.refusal += str(message.additional_kwargs.get("refusal") or "")
        self.finish_reason = message.response_metadata.get("finish_reason") or self.finish_reason
        self.last = message
        return message

    def check(self) -> None:
        if self.refusal or self.finish_reason == "content_filter":
            detail = f": {self.refusal}" if self.refusal else " (finish_reason=content_filter)"
            raise B3nLCRefusalError(f"The model refused to produce the requested output{detail}", raw_message=self.last)
        if self.tool is not None and not self.called:
            raise to_langchain_error(B3nStructuredOutputError(
                f"The model answered without calling the {self.tool!r} tool that with_structured_output asked for "
                "(and no JSON could be read from its reply), so there is no structured answer. Retry, or give the "
                "prompt more detail; with include_raw=True the reply is on 'raw'."
            ))


def _refusal_guard(tool: str | None = None) -> Runnable[BaseMessage, BaseMessage]:
    """Pass messages through, raising ``ModelRefusalError`` (as ``B3nLCRefusalError``) on a refusal, and a
    ``B3nStructuredOutputError`` when ``tool`` was forced but not called (never an empty answer without an error).

    Streams are passed through chunk by chunk; the check runs when the stream ends.
    """

    def transform(chunks: Iterator[BaseMessage]) -> Iterator[BaseMessage]:
        watch = _RefusalWatch(tool)
        for chunk in chunks:
            yield watch.see(chunk)
        watch.check()

    async def atransform(chunks: AsyncIterator[BaseMessage]) -> AsyncIterator[BaseMessage]:
        watch = _RefusalWatch(tool)
        async for chunk in chunks:
            yield watch.see(chunk)
        watch.check()

    return RunnableGenerator(transform, atransform, name="b3n_refusal_guard")


__all__ = ["ChatB3n"]
