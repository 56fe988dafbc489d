# %% [markdown]
# # Structured output: `function_calling`, `json_mode`, `json_schema`, and the per-model default
#
# `ChatB3n.with_structured_output(Schema)` returns parsed objects instead of text. There are three
# ways to get them from a relay, and not every model honours every way: Claude and Gemini ignore
# `response_format` on B3n, so JSON mode or JSON schema would come back as prose. Leave `method`
# unset and the package picks the one the model honours (from the model catalog); ask for one it
# does not honour and you get a warning and the default instead of a silent failure.

# %%
import json
import warnings

from _setup import connect, heading
from pydantic import BaseModel, Field

b3n = connect()
base_url, api_key = b3n.base_url, b3n.api_key


class Movie(BaseModel):
    """A film and its basic facts."""

    title: str = Field(description="The film's title")
    year: int = Field(description="Year of release")
    director: str = Field(description="Who directed it")


TEXT = "Tell me about the film 'Inception': it came out in 2010 and its director is 'Christopher Nolan'."

# %% [markdown]
# ## The three methods on gpt-4o (it honours all three)

# %%
from langchain_b3n import ChatB3n

llm = ChatB3n(model="gpt-4o", api_key=api_key, base_url=base_url)

heading("method='function_calling' (the schema becomes a forced tool call)")
movie = llm.with_structured_output(Movie, method="function_calling").invoke(TEXT)
print(f"parsed {type(movie).__name__}: {movie!r}")

heading("method='json_schema' (response_format with the JSON schema, strict)")
movie = llm.with_structured_output(Movie, method="json_schema", strict=True).invoke(TEXT)
print(f"parsed {type(movie).__name__}: {movie!r}")

heading("method='json_mode' (response_format json_object; the prompt must describe the JSON)")
instructions = f"Reply with JSON matching this JSON schema: {json.dumps(Movie.model_json_schema())}"
movie = llm.with_structured_output(Movie, method="json_mode").invoke([("system", instructions), ("human", TEXT)])
print(f"parsed {type(movie).__name__}: {movie!r}")

heading("include_raw=True keeps the raw message next to the parsed object")
result = llm.with_structured_output(Movie, include_raw=True).invoke(TEXT)
print(f"parsed: {result['parsed']!r}; parsing_error: {result['parsing_error']}; "
      f"raw usage: {result['raw'].usage_metadata}")

# %% [markdown]
# ## The per-model default: leave `method` unset

# %%
heading("Default method per model")
for model in ("gpt-4o-mini", "gpt-3.5-turbo", "claude-3-5-sonnet-latest", "gemini-1.5-pro-latest"):
    chat = ChatB3n(model=model, api_key=api_key, base_url=base_url)
    method = chat.catalog_info().structured_output_method
    movie = chat.with_structured_output(Movie).invoke(TEXT)
    print(f"[{model}] default method {method}: {movie!r}")

heading("Asking Claude for json_schema (which B3n's Claude ignores) falls back, with a warning")
claude = ChatB3n(model="claude-3-5-sonnet-latest", api_key=api_key, base_url=base_url)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    movie = claude.with_structured_output(Movie, method="json_schema").invoke(TEXT)
for warning in caught:
    print(f"warning: {warning.message}")
print(f"parsed anyway: {movie!r}")

# %% [markdown]
# ## LlamaIndex: `structured_predict` and `as_structured_llm`

# %%
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate

from llama_index_b3n import B3n

heading("LlamaIndex structured_predict (gemini-1.5-flash-latest)")
li_llm = B3n(model="gemini-1.5-flash-latest", api_key=api_key, api_base=base_url)
movie = li_llm.structured_predict(Movie, PromptTemplate("Extract the film facts: {text}"), text=TEXT)
print(f"parsed {type(movie).__name__}: {movie!r}")

heading("LlamaIndex as_structured_llm (gpt-4o-mini)")
structured = B3n(model="gpt-4o-mini", api_key=api_key, api_base=base_url).as_structured_llm(Movie)
response = structured.chat([ChatMessage(role="user", content=TEXT)])
print(f"parsed {type(response.raw).__name__}: {response.raw!r}")

# %%
b3n.cleanup()
