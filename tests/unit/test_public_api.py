"""The public surface is pinned: every name in ``b3n.__all__`` resolves, and nothing teaches a private path."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import b3n

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_B3N_ALL = {
    "DEFAULT_BASE_URL", "MODELS", "AccountInfo", "AccountService", "AsyncAccountService", "AsyncAudioService",
    "AsyncB3nClient", "AsyncChatService", "AsyncEmbeddingsService", "AsyncImagesService", "AsyncModelsService",
    "AudioService", "B3nAPIStatusError", "B3nAdaptationWarning", "B3nAuthenticationError", "B3nBadRequestError",
    "B3nClient", "B3nConfig", "B3nConfigurationError", "B3nConflictError", "B3nConnectionError", "B3nCrossOriginRedirectError", "B3nError",
    "B3nInsufficientQuotaError", "B3nInvalidRequestError", "B3nModelNotAvailableError", "B3nNotFoundError",
    "B3nPermissionDeniedError", "B3nPossiblyBilledError", "B3nRateLimitError", "B3nResponseError", "B3nServerError",
    "B3nStreamInterruptedError", "B3nStreamTimeoutError", "B3nStructuredOutputError", "B3nTimeoutError",
    "B3nLimiterTimeoutError", "B3nRelayDataWarning", "B3nSecurityWarning", "B3nUnknownModelWarning",
    "ChatChunk", "ChatCompletion", "ChatService", "EmbeddingResponse", "EmbeddingUsage", "EmbeddingsService",
    "GeneratedImage", "ImageQuality", "ImageResponseFormat", "ImageResult", "ImageSize", "ImageStyle",
    "ImagesService", "ModelEntry", "ModelInfo", "ModelsService", "SpeechFormat", "TimestampGranularity", "ToolCall",
    "ToolCallDelta", "Transcription", "TranscriptionFormat", "TranscriptionSegment", "TranscriptionWord", "Usage",
    "Voice", "__version__", "default_output_dir", "get_model_info", "resolve_config", "B3nTokenizer", "TokenCounter", "token_counter",
}


def test_b3n_all_is_pinned() -> None:
    assert set(b3n.__all__) == EXPECTED_B3N_ALL
    assert len(b3n.__all__) == len(set(b3n.__all__))


def test_every_public_name_resolves_and_star_import_works() -> None:
    for name in b3n.__all__:
        assert getattr(b3n, name) is not None, name
    proc = subprocess.run(
        [sys.executable, "-c", "from b3n import *; print(B3nClient.__name__, Transcription.__name__)"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["B3nClient", "Transcription"]


def test_public_classes_are_defined_in_private_modules_of_b3n() -> None:
    for name in b3n.__all__:
        value = getattr(b3n, name)
        module = getattr(value, "__module__", None)
        if isinstance(value, type) and module is not None:
            assert module.startswith("b3n._"), (name, module)


def test_importing_b3n_imports_no_framework() -> None:
    code = "import sys, b3n, b3n.testing; print(any(m.split('.')[0] in ('langchain_core', 'llama_index') for m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


_OLD_CORE = re.compile(r"(?<![\w.])_b3n\b")


def test_no_text_teaches_the_old_private_core() -> None:
    """Docstrings, README, docs and cookbook use public paths: the old ``_b3n`` package is gone everywhere."""
    offenders = []
    for path in [*ROOT.glob("*.md"), *ROOT.glob("docs/**/*.md"), *ROOT.glob("cookbook/*.py"),
                 *ROOT.glob("b3n/**/*.py"), *ROOT.glob("langchain_b3n/**/*.py"), *ROOT.glob("llama_index_b3n/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        if path.name == "CONTRIBUTING.md":  # its closing note says where the old names went
            text = text.split("\n## Where things moved\n")[0]
        for lineno, line in enumerate(text.splitlines(), 1):
            if _OLD_CORE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_docstring_examples_import_only_public_paths() -> None:
    private = re.compile(r">>> .*\b(from|import) b3n\._")
    offenders = []
    for path in [*ROOT.glob("b3n/**/*.py"), *ROOT.glob("langchain_b3n/**/*.py"), *ROOT.glob("llama_index_b3n/**/*.py"),
                 *ROOT.glob("cookbook/*.py")]:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if private.search(line) or (path.parts[-2] == "cookbook" and re.search(r"\b(from|import) b3n\._", line)):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


# ----------------------------------------------------------------------------- the facades (langchain-mistralai style)

_ERRORS = {
    "B3nAPIStatusError", "B3nAuthenticationError", "B3nBadRequestError", "B3nConfigurationError", "B3nConflictError",
    "B3nConnectionError", "B3nCrossOriginRedirectError", "B3nError", "B3nInsufficientQuotaError",
    "B3nInvalidRequestError",
    "B3nModelNotAvailableError", "B3nNotFoundError", "B3nPermissionDeniedError", "B3nPossiblyBilledError",
    "B3nRateLimitError",
    "B3nResponseError", "B3nServerError", "B3nStreamInterruptedError", "B3nStreamTimeoutError", "B3nTimeoutError",
    "B3nLimiterTimeoutError",
}
#: what a facade user gets back from public calls (catalog entries, media results, account info, partials).
_RETURNED = {
    "AccountInfo", "B3nConfig", "ChatChunk", "ChatCompletion", "EmbeddingResponse", "GeneratedImage", "ImageResult",
    "ModelEntry", "ModelInfo", "ToolCall", "Transcription", "TranscriptionSegment", "TranscriptionWord", "Usage",
}
EXPECTED_LANGCHAIN_ALL = {
    "__version__", "AsyncB3nClient", "B3nAudioLoader", "B3nClient", "B3nEmbeddings", "B3nImageGeneration",
    "B3nSpeechToText", "B3nStructuredOutputWarning", "B3nTextToSpeech", "B3nToolInputError", "B3nWhisperParser",
    "ChatB3n", "Emulator", "B3nCostCallbackHandler", "get_b3n_callback", *_ERRORS, *_RETURNED,
}
EXPECTED_LLAMA_INDEX_ALL = {
    "__version__", "AsyncB3nClient", "B3n", "B3nAudioReader", "B3nClient", "B3nEmbedding", "B3nStructuredOutputError",
    "B3nToolSpec", "Emulator", "B3nCostHandler", "B3nTokenizer", *_ERRORS, *_RETURNED,
}


def test_langchain_b3n_all_is_pinned() -> None:
    import langchain_b3n

    assert set(langchain_b3n.__all__) == EXPECTED_LANGCHAIN_ALL
    assert len(langchain_b3n.__all__) == len(set(langchain_b3n.__all__))


def test_llama_index_b3n_all_is_pinned() -> None:
    import llama_index_b3n

    assert set(llama_index_b3n.__all__) == EXPECTED_LLAMA_INDEX_ALL
    assert len(llama_index_b3n.__all__) == len(set(llama_index_b3n.__all__))


def test_facades_star_import_and_hand_out_the_core_types() -> None:
    code = ("from langchain_b3n import *; import b3n; "
            "assert ModelInfo is b3n.ModelInfo and Transcription is b3n.Transcription; "
            "from llama_index_b3n import *; assert AccountInfo is b3n.AccountInfo and ImageResult is b3n.ImageResult; "
            "print(type(ChatB3n().catalog_info()).__name__, type(B3n().model_info).__name__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ModelInfo", "ModelInfo"]
