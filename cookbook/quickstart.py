# %% [markdown]
# # Quickstart: one prompt, four model families, two frameworks
#
# The same question goes to a GPT, a Claude, a Gemini and an o1 model through B3n, first with
# LangChain's `ChatB3n`, then with LlamaIndex's `B3n`; each answer is fetched whole (`invoke` /
# `chat`) and streamed (`stream` / `stream_chat`), with token usage. Nothing changes between
# models: o1 does not stream upstream and takes no system message, so the package serves
# `stream()` from one call and folds the system prompt into the user turn for you.
#
# Without `B3N_API_KEY` this runs offline against the bundled emulator (a deterministic
# scripted model); with a key it talks to the real B3n.

# %%
from _setup import connect, heading

b3n = connect()
base_url, api_key = b3n.base_url, b3n.api_key

MODELS = ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "o1-mini"]
SYSTEM = "You are a terse calculator. Answer with the equation."
PROMPT = "What is 12 * 7?"


def tokens(prompt: object, completion: object, reasoning: object = None) -> str:
    extra = f", {reasoning} of them reasoning" if reasoning else ""
    return f"(tokens: {prompt} in, {completion} out{extra})"


# %% [markdown]
# ## LangChain: `ChatB3n`

# %%
from langchain_b3n import ChatB3n

heading("LangChain ChatB3n")
for model in MODELS:
    llm = ChatB3n(model=model, api_key=api_key, base_url=base_url)
    messages = [("system", SYSTEM), ("human", PROMPT)]

    reply = llm.invoke(messages)
    usage = reply.usage_metadata or {}
    reasoning = usage.get("output_token_details", {}).get("reasoning")
    print(f"[{model}] invoke: {reply.text.strip()!r} "
          f"{tokens(usage.get('input_tokens'), usage.get('output_tokens'), reasoning)}")

    streamed = None
    pieces = 0
    for chunk in llm.stream(messages):
        streamed = chunk if streamed is None else streamed + chunk
        pieces += 1
    assert streamed is not None
    usage = streamed.usage_metadata or {}
    print(f"[{model}] stream: {streamed.text.strip()!r} in {pieces} chunks "
          f"{tokens(usage.get('input_tokens'), usage.get('output_tokens'), usage.get('output_token_details', {}).get('reasoning'))}")

# %% [markdown]
# ## LlamaIndex: `B3n`

# %%
from llama_index.core.llms import ChatMessage

from llama_index_b3n import B3n

heading("LlamaIndex B3n")
for model in MODELS:
    llm = B3n(model=model, api_key=api_key, api_base=base_url)
    messages = [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=PROMPT)]

    response = llm.chat(messages)
    usage = response.additional_kwargs
    print(f"[{model}] chat: {(response.message.content or '').strip()!r} "
          f"{tokens(usage.get('prompt_tokens'), usage.get('completion_tokens'), usage.get('reasoning_tokens'))}")

    last = None
    pieces = 0
    for response in llm.stream_chat(messages):  # each response holds the message so far; .delta is the new text
        last = response
        pieces += 1
    assert last is not None
    usage = last.additional_kwargs
    print(f"[{model}] stream_chat: {(last.message.content or '').strip()!r} in {pieces} chunks "
          f"{tokens(usage.get('prompt_tokens'), usage.get('completion_tokens'), usage.get('reasoning_tokens'))}")

# %%
b3n.cleanup()
print("\nDone: the same code served four model families in both frameworks.")
