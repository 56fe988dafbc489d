"""LlamaIndex's import convention for B3n embeddings: ``from llama_index.embeddings.b3n import B3nEmbedding``.

The same class as ``llama_index_b3n.B3nEmbedding`` (the primary import path), shipped in the same wheel.

Example:
    >>> from llama_index.embeddings.b3n import B3nEmbedding
    >>> import llama_index_b3n
    >>> B3nEmbedding is llama_index_b3n.B3nEmbedding
    True
"""

from llama_index_b3n.embeddings import B3nEmbedding

__all__ = ["B3nEmbedding"]
