# %% [markdown]
# # RAG with LlamaIndex: `VectorStoreIndex` + `B3nEmbedding` + a `B3n` query engine
#
# Documents are embedded with B3n's `text-embedding-3-small` through `B3nEmbedding`, indexed in a
# `VectorStoreIndex`, and queried with a `B3n` chat model. The response carries its source nodes
# (with scores and metadata), and the same engine can stream.

# %%
from _setup import connect, heading

b3n = connect()
base_url, api_key = b3n.base_url, b3n.api_key

# %%
from llama_index.core import Document, Settings, VectorStoreIndex

from llama_index_b3n import B3n, B3nEmbedding

Settings.embed_model = B3nEmbedding(model_name="text-embedding-3-small", api_key=api_key, api_base=base_url)
Settings.llm = B3n(model="gpt-4o-mini", api_key=api_key, api_base=base_url)

DOCUMENTS = [
    Document(text="The Eiffel Tower in Paris is 330 metres tall and was completed in 1889.",
             metadata={"file_name": "eiffel.txt"}),
    Document(text="Mount Everest rises 8849 metres above sea level on the border of Nepal and China.",
             metadata={"file_name": "everest.txt"}),
    Document(text="The Great Wall of China stretches for about 21196 kilometres across northern China.",
             metadata={"file_name": "great_wall.txt"}),
]

heading("Indexing")
index = VectorStoreIndex.from_documents(DOCUMENTS)
print(f"indexed {len(DOCUMENTS)} documents with {Settings.embed_model.model_name}")

# %% [markdown]
# ## Query, with sources

# %%
heading("Query engine (gpt-4o-mini)")
engine = index.as_query_engine(similarity_top_k=2)
QUESTION = "How tall is the Eiffel Tower?"
response = engine.query(QUESTION)
print("question:", QUESTION)
print("answer:  ", str(response).strip())
for node in response.source_nodes:
    print(f"source:   {node.metadata['file_name']} (score {node.score:.3f})")

# %% [markdown]
# ## The same index, another model, streamed

# %%
heading("Streaming query engine (claude-3-5-haiku-latest)")
claude = B3n(model="claude-3-5-haiku-latest", api_key=api_key, api_base=base_url)
streaming = index.as_query_engine(llm=claude, similarity_top_k=1, streaming=True)
answer = streaming.query("How high is Mount Everest?")
print("answer:  ", end="")
for token in answer.response_gen:
    print(token, end="", flush=True)
print(f"\nsource:   {answer.source_nodes[0].metadata['file_name']}")

# %% [markdown]
# ## Async, concurrently

# %%
import asyncio


async def ask_all(questions: list[str]) -> list[str]:
    replies = await asyncio.gather(*(engine.aquery(q) for q in questions))
    return [str(r).strip() for r in replies]


heading("Async queries (asyncio.gather)")
for answer_text in asyncio.run(ask_all(["How long is the Great Wall of China?", "When was the Eiffel Tower completed?"])):
    print("answer:  ", answer_text)

# %%
b3n.cleanup()
