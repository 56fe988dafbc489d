"""LlamaIndex's import convention for the B3n LLM: ``from llama_index.llms.b3n import B3n``.

The same class as ``llama_index_b3n.B3n`` (the primary import path), shipped in the same wheel.

Example:
    >>> from llama_index.llms.b3n import B3n
    >>> import llama_index_b3n
    >>> B3n is llama_index_b3n.B3n
    True
"""

from llama_index_b3n.llms import B3n

__all__ = ["B3n"]
