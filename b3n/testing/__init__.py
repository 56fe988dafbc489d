"""A local B3n relay emulator for tests, demos and offline work.

The emulator is a small HTTP server (standard library only) that speaks the B3n / one-api
protocol on loopback: OpenAI-style ``/v1/chat/completions`` (JSON and SSE), ``/v1/embeddings``,
``/v1/images/generations``, ``/v1/audio/speech``, ``/v1/audio/transcriptions``, ``/v1/models``,
and the account endpoint ``/api/user/self``. Behind it sits a deterministic scripted model: the
same request always gets the same answer (ids included; only ``created`` follows the clock).

Each model family is served with the quirks the real relay shows (dated model names for gpt-*,
two choices for Claude tool calls, index-less Gemini tool-call deltas, ...); pass ``quirks=False``
for clean OpenAI behaviour. ``relay="one-api" | "new-api-2412" | "new-api"`` (default ``"docs"``)
serves Claude and Gemini the way those relay versions translate them, as switchable quirks (see
:mod:`b3n.testing.relays`). Faults (429, 5xx HTML pages, dropped connections, cut or malformed
streams, stalls, ...) can be injected per route to test retries and error handling.

Use it in your own tests
------------------------

.. code-block:: python

    import pytest
    from b3n.testing import Emulator

    @pytest.fixture(scope="module")
    def emu():
        with Emulator() as server:
            yield server

    def test_my_app(emu):
        from openai import OpenAI

        client = OpenAI(base_url=emu.base_url, api_key="sk-test")
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "say 1"}]
        )
        assert reply.choices[0].message.content == "1"
        assert emu.count("chat") == 1

    def test_retry_on_rate_limit(emu):
        emu.reset()
        emu.inject("rate_limit", route="chat", times=2, retry_after=0)
        ...  # your client should retry twice and then succeed
        assert emu.count("chat") == 3

A runnable example with the standard library only:

>>> import json, urllib.request
>>> from b3n.testing import Emulator
>>> with Emulator() as emu:
...     req = urllib.request.Request(
...         emu.base_url + "/embeddings",
...         data=json.dumps({"model": "text-embedding-3-small", "input": ["foo", "bar"]}).encode(),
...         headers={"Authorization": "sk-test", "Content-Type": "application/json"})
...     data = json.load(urllib.request.urlopen(req))["data"]
...     len(data), len(data[0]["embedding"])
(2, 1536)

From the command line: ``python -m b3n.testing --port 8000`` (or ``b3n emulator --port 8000``),
then point any OpenAI-compatible client at ``http://127.0.0.1:8000/v1`` with any API key.

What the scripted model does (in short): replies are never empty; "say X" answers "X"; simple
arithmetic is computed; prompts that carry retrieved context ("Context information is below.",
"Context:") get the best-matching context sentence back; tools are called when the prompt names
them (``magic_function(3)`` → ``{"input": 3}``) or ``tool_choice`` forces them, with arguments
synthesised from the prompt to satisfy the JSON schema; sequential prompts ("What is 3 * 4? Then add 5
to the result.") get one call per step, each fed the previous result; under ``tool_choice="required"``
the model calls a tool it has not called yet in the turn once the requested ones have run (e.g. the
structured-output tool of LangChain's ``create_agent``), filled from the tool results; after a
``tool`` message the model answers with the tool results; Gemini-family tool calls carry a thought
signature (``extra_content.google.thought_signature``) that must come back with the call on the next
request of the turn, or the request fails with 400 like Gemini 3; ``response_format`` JSON modes
(and JSON schemas embedded in the prompt by output parsers) produce schema-valid JSON; text ReAct
prompts get ``Thought/Action/Action Input`` steps and a final ``Answer:``. ``stop`` and ``max_tokens`` are honoured.

Observing and steering the server:

* ``emu.counts`` / ``emu.count("chat")`` / ``emu.total_requests`` — requests per route;
  ``emu.requests`` / ``emu.last_request("chat")`` — what was sent (headers, parsed JSON body);
  ``emu.disconnects`` / ``emu.active_requests``; ``emu.reset()`` clears counts, requests and faults.
* ``emu.traffic.set_latency("embeddings", 0.3, jitter=0.05, per_input=0.001)`` and
  ``emu.traffic.set_limit(concurrent=8, per_minute=None, retry_after=1)`` make it behave like a real
  relay: per-route latency that grows with the batch, and 429s beyond a per-key limit (see
  ``b3n.testing.traffic``; ``emu.traffic.rejected`` / ``.peak_concurrency`` / ``.timeline`` observe it).
* ``emu.latency = 0.05``, ``emu.quirks = False``, ``emu.reply_chunks = 200`` take effect at once.
* ``emu.script("text", ToolCall("f", {"x": "wrong type"}), ErrorReply(503, "busy"))`` queues the next chat
  replies (see :mod:`b3n.testing.script`); ``emu.prose_unless_forced = True`` makes the model answer in prose
  unless ``tool_choice`` forces a tool, as real Claude and Gemini models often do.
* ``emu.inject(kind, route="chat", times=1, **params)`` queues a fault for the next requests to a
  route (``"*"`` = any route); ``emu.set_fault_rate(kind, rate, route=..., seed=...)`` applies one at
  random. Kinds: ``rate_limit`` (``retry_after=``), ``server_error`` (``status=``, HTML body),
  ``quota``, ``auth``, ``model_unavailable``, ``drop`` (no response), ``stream_cut`` (``after=``),
  ``malformed_chunk`` (``after=``), ``slow_first_byte`` (``delay=``), ``stall`` (``after=``,
  ``delay=``), ``bad_json``, ``empty_choices``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .script import ErrorReply, ToolCall
    from .server import Emulator, RecordedRequest
    from .traffic import Latency, RateLimit, Traffic

__all__ = [
    "Emulator", "ErrorReply", "Latency", "RateLimit", "RecordedRequest", "ToolCall", "Traffic", "add_model_arguments",
    "serve",
]

# Loaded on first use, so that `b3n --help` or importing b3n.testing.traffic stays cheap.
_LAZY = {"Emulator": ".server", "RecordedRequest": ".server", "Latency": ".traffic", "RateLimit": ".traffic",
         "Traffic": ".traffic", "ToolCall": ".script", "ErrorReply": ".script"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def export_lines(emu: Emulator) -> str:
    """The shell lines that point the package (and ``b3n`` commands) at ``emu``, as ``b3n emulator`` prints them.

    Example:
        >>> from b3n.testing import Emulator
        >>> with Emulator(port=0) as emu:
        ...     print(export_lines(emu).replace(str(emu.port), "PORT"))
        Point a shell at it:
          export B3N_BASE_URL=http://127.0.0.1:PORT/v1 B3N_API_KEY=sk-emulator
          export B3N_ACCESS_TOKEN=emu-access-token B3N_USER_ID=1
    """
    key = emu.api_key or "sk-emulator"
    return (f"Point a shell at it:\n  export B3N_BASE_URL={emu.base_url} B3N_API_KEY={key}\n"
            f"  export B3N_ACCESS_TOKEN={emu.access_token} B3N_USER_ID={emu.user_id}")


def serve(
    port: int = 8000,
    host: str = "127.0.0.1",
    quirks: bool = True,
    relay: str = "docs",
    traffic: argparse.Namespace | None = None,
    *,
    strict: bool = True,
    prose_unless_forced: bool = False,
) -> None:
    """Run an emulator in the foreground until Ctrl-C, printing its base URL.

    ``traffic``: parsed ``--latency`` / ``--limit-*`` options (see :func:`b3n.testing.traffic.add_arguments`);
    ``strict`` / ``prose_unless_forced``: see :class:`~b3n.testing.Emulator` (``--lenient``,
    ``--prose-unless-forced``; :func:`add_model_arguments`).
    """
    from .exposure import EmulatorExposedWarning, exposure_warning
    from .server import Emulator
    from .traffic import configure

    exposed = exposure_warning(host)
    if exposed:
        print(f"Warning: {exposed}", file=sys.stderr, flush=True)
    with warnings.catch_warnings():  # said once, above, without a warnings-module traceback line
        warnings.simplefilter("ignore", EmulatorExposedWarning)
        emu = Emulator(quirks=quirks, relay=relay, host=host, port=port, strict=strict,
                       prose_unless_forced=prose_unless_forced).start()
    shaped = configure(emu.traffic, traffic) if traffic is not None else ""
    extra = f"; {shaped}" if shaped else ""
    try:  # the banner inside: a Ctrl-C that lands while it is being written still stops cleanly
        if not strict:
            extra += "; unknown request arguments accepted"
        if prose_unless_forced:
            extra += "; tools only when forced"
        print(f"B3n emulator listening on {emu.base_url} (quirks {'on' if quirks else 'off'}, relay {relay}{extra}); "
              "Ctrl-C to stop", flush=True)
        print(export_lines(emu), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--lenient`` and ``--prose-unless-forced`` (read them back with ``not args.lenient`` and
    ``args.prose_unless_forced``)."""
    parser.add_argument("--lenient", action="store_true",
                        help="accept and ignore unknown request arguments (default: refuse them with 400, like OpenAI)")
    parser.add_argument("--prose-unless-forced", action="store_true",
                        help="the model answers in prose unless tool_choice forces a tool (like real Claude/Gemini)")
