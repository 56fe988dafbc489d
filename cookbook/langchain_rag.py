# %% [markdown]
# # RAG with LangChain: `B3nEmbeddings` + `InMemoryVectorStore` + `ChatB3n`, with sources
#
# A handful of documents are embedded with B3n's `text-embedding-3-small`, stored in LangChain's
# `InMemoryVectorStore`, retrieved for a question, and handed to `ChatB3n` in a prompt. The chain
# returns the answer *and* the documents it was grounded on, so you can cite them.

# %%
from _setup import connect, heading

b3n = connect()
base_url, api_key = b3n.base_url, b3n.api_key

# %% [markdown]
# ## Index a few documents

# %%
from langchain_core.documents import Document
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_b3n import B3nEmbeddings

DOCS = [
    Document(page_content="B3n relays OpenAI, Claude and Gemini chat models through one OpenAI-compatible API.",
             metadata={"source": "overview.md"}),
    Document(page_content="The B3n balance is counted in quota units, and 500000 quota units equal one US dollar.",
             metadata={"source": "billing.md"}),
    Document(page_content="Claude tool-call replies arrive as two choices that share index zero.",
             metadata={"source": "quirks.md"}),
    Document(page_content="The bundled emulator listens on a loopback port and needs no network access.",
             metadata={"source": "emulator.md"}),
]

embeddings = B3nEmbeddings(model="text-embedding-3-small", api_key=api_key, base_url=base_url)
store = InMemoryVectorStore.from_documents(DOCS, embeddings)
retriever = store.as_retriever(search_kwargs={"k": 2})

heading("Retrieval")
QUESTION = "How many quota units equal one US dollar?"
for doc in retriever.invoke(QUESTION):
    print(f"retrieved {doc.metadata['source']}: {doc.page_content}")

# %% [markdown]
# ## The chain: retrieve, prompt, answer, and keep the sources

# %%
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableParallel, RunnablePassthrough

from langchain_b3n import ChatB3n

prompt = ChatPromptTemplate.from_messages([
    ("system", "Answer the question using only the context. If it is not there, say you don't know.\n\n"
               "Context:\n{context}"),
    ("human", "Question: {question}"),
])


def format_docs(docs: list[Document]) -> str:
    return "\n\n".join(doc.page_content for doc in docs)


def rag_chain(llm: ChatB3n):  # -> Runnable returning {"context": [Document], "question": str, "answer": str}
    answer = RunnablePassthrough.assign(context=lambda x: format_docs(x["context"])) | prompt | llm | StrOutputParser()
    return RunnableParallel(context=retriever, question=RunnablePassthrough()).assign(answer=answer)


heading("Answer with sources (gpt-4o-mini)")
result = rag_chain(ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url)).invoke(QUESTION)
print("question:", result["question"])
print("answer:  ", result["answer"].strip())
print("sources: ", ", ".join(doc.metadata["source"] for doc in result["context"]))

# %% [markdown]
# ## Same chain, another model family, streamed

# %%
heading("Streaming the answer (claude-3-5-haiku-latest)")
claude_chain = rag_chain(ChatB3n(model="claude-3-5-haiku-latest", api_key=api_key, base_url=base_url))
sources: list[str] = []
print("answer:  ", end="")
for part in claude_chain.stream("Which chat models does B3n relay?"):
    if "answer" in part:
        print(part["answer"], end="", flush=True)
    if "context" in part:
        sources = [doc.metadata["source"] for doc in part["context"]]
print("\nsources: ", ", ".join(sources))

# %%
b3n.cleanup()
