"""The ``b3n`` command: serve the emulator, list models, show the balance, chat from the terminal.

Example:
    >>> from b3n.cli import build_parser
    >>> build_parser().parse_args(["chat", "gpt-4o-mini", "say 1", "--no-stream"]).stream
    False
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

from b3n._config import DEFAULT_BASE_URL, ENV_ACCESS_TOKEN, ENV_API_KEY, ENV_BASE_URL, ENV_USER_ID
from b3n._errors import B3nError
from b3n._version import __version__

EXIT_ERROR = 2

_CONFIG_HELP = f"""\
configuration (explicit option > environment variable > default):
  {ENV_API_KEY:<17} the sk- API key for /v1 calls (B3n console: Token page). Prefer the
                    environment over --api-key: options end up in your shell history.
  {ENV_BASE_URL:<17} the relay URL, default {DEFAULT_BASE_URL}
                    (for the local emulator: the URL `b3n emulator` prints)
  {ENV_ACCESS_TOKEN:<17} the *system access token* for `b3n balance` / `b3n whoami` (B3n console: Account ->
                    Personal center -> Account options -> System token), not the sk- key
  {ENV_USER_ID:<17} your numeric user id, sent with the system token (New-Api-User)

examples:
  b3n emulator                                  # offline relay; prints the export lines to copy
  export B3N_BASE_URL=http://127.0.0.1:8000/v1 B3N_API_KEY=sk-emulator
  b3n models
  b3n chat gpt-4o-mini "Write a haiku about relays"
  B3N_ACCESS_TOKEN=... B3N_USER_ID=42 b3n balance
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="b3n",
        description="Command-line tools for the B3n-AI relay (b3n-integrations).",
        epilog=_CONFIG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"b3n-integrations {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", help=f"relay URL ending in /v1 (env {ENV_BASE_URL}; default {DEFAULT_BASE_URL})")
    common.add_argument("--api-key", help=f"sk- API key (prefer the {ENV_API_KEY} environment variable)")
    common.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for B3n (default 60)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    emu = sub.add_parser("emulator", help="serve the local B3n emulator (offline relay)", parents=[],
                         description="Serve the bundled B3n emulator on loopback until Ctrl-C (or kill PID when "
                                     "it runs in the background), and print the export lines that point a shell "
                                     "at it.")
    emu.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free port)")
    emu.add_argument("--host", default="127.0.0.1",
                     help="address to bind (default 127.0.0.1; anything else is reachable by others and warns)")
    emu.add_argument("--no-quirks", dest="quirks", action="store_false",
                     help="behave like plain OpenAI (no Claude/Gemini/o1 response quirks)")
    emu.add_argument("--relay", choices=["docs", "one-api", "new-api-2412", "new-api"], default="docs",
                     help="relay profile: how Claude and Gemini are translated (default docs: B3n's documentation)")
    from b3n.testing import add_model_arguments
    from b3n.testing.traffic import add_arguments as add_traffic_arguments

    add_model_arguments(emu)
    add_traffic_arguments(emu)

    models = sub.add_parser("models", help="list the models the relay serves to your key", parents=[common])
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")

    who = sub.add_parser("whoami", help="account info and balance (needs the system access token)",
                         parents=[common], epilog=_CONFIG_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    who.add_argument("--access-token", help=f"system access token (prefer the {ENV_ACCESS_TOKEN} environment variable)")
    who.add_argument("--user-id", help=f"numeric user id (env {ENV_USER_ID})")
    who.add_argument("--json", action="store_true", help="print JSON instead of text")

    balance = sub.add_parser("balance", help="your balance in US dollars (needs the system access token)",
                             parents=[common], epilog=_CONFIG_HELP,
                             formatter_class=argparse.RawDescriptionHelpFormatter,
                             description="Print the account balance in US dollars (as `b3n whoami` shows it).")
    balance.add_argument("--access-token",
                         help=f"system access token (prefer the {ENV_ACCESS_TOKEN} environment variable)")
    balance.add_argument("--user-id", help=f"numeric user id (env {ENV_USER_ID})")
    balance.add_argument("--json", action="store_true", help="print JSON instead of text")

    probe = sub.add_parser("probe", help="find out how your relay treats Claude, Gemini and GPT (a few cheap calls)",
                           parents=[common],
                           description="Send a few bounded calls per model family, print what the relay does, and "
                                       "cache it so ChatB3n / B3n adapt up front (B3N_PROBE_CACHE=off ignores it).")
    probe.add_argument("--model", action="append", dest="models", metavar="MODEL",
                       help="model to probe (repeatable; default: gpt-4o-mini, claude-3-5-sonnet-latest, "
                            "gemini-1.5-flash-latest)")
    probe.add_argument("--json", action="store_true", help="print JSON instead of a table")
    probe.add_argument("--no-save", dest="save", action="store_false", help="do not write the cache")

    chat = sub.add_parser("chat", help="send one prompt and stream the answer", parents=[common])
    chat.add_argument("model", help="model name, e.g. gpt-4o-mini, claude-3-5-sonnet-latest")
    chat.add_argument("prompt", help="the user message ('-' reads it from stdin)")
    chat.add_argument("--system", help="a system message")
    chat.add_argument("--temperature", type=float, default=None)
    chat.add_argument("--max-tokens", type=int, default=None)
    chat.add_argument("--no-stream", dest="stream", action="store_false", help="wait for the whole answer")
    return parser


def _client(args: argparse.Namespace, **extra: Any) -> Any:
    from b3n._client import B3nClient

    return B3nClient(api_key=args.api_key, base_url=args.base_url, timeout=args.timeout, **extra)


def _cmd_emulator(args: argparse.Namespace, out: TextIO) -> int:
    from b3n.testing import serve

    try:
        serve(port=args.port, host=args.host, quirks=args.quirks, relay=args.relay, traffic=args,
              strict=not args.lenient, prose_unless_forced=args.prose_unless_forced)
    except OSError as exc:  # typically: the port is taken
        sys.stderr.write(f"b3n emulator: error: cannot listen on port {args.port} ({exc.strerror or exc}); "
                         "pick another with --port N (or --port 0 for any free port)\n")
        return EXIT_ERROR
    return 0


def _probe_findings(base_url: str, model: str) -> dict[str, bool]:
    """What ``b3n probe`` recorded for ``model``'s family at ``base_url`` (empty when nothing, or switched off)."""
    from b3n._chat.relay import family
    from b3n._probe_cache import enabled, load_probe

    if not enabled():
        return {}
    found = (load_probe(base_url) or {}).get(family(model))
    return {k: v for k, v in found.items() if isinstance(v, bool)} if isinstance(found, dict) else {}


#: the probe behaviour that confirms each native route (see b3n._native_chat), and the route's name.
_NATIVE_ROUTES = {"native_messages": "anthropic", "native_generate_content": "gemini"}


def _routes(findings: dict[str, bool] | None) -> list[str]:
    """The routes the relay serves a chat model on: ``openai``, plus the native ones ``b3n probe`` found."""
    return ["openai"] + [route for key, route in _NATIVE_ROUTES.items() if (findings or {}).get(key)]


def _capabilities(model: str, probe: dict[str, bool] | None = None) -> tuple[list[str], str]:
    """The capability flags the package assumes for ``model`` and where they come from.

    ``probe``: the findings of ``b3n probe`` for the model's family; a finding that changes what the
    package does (``response_format`` honoured or ignored decides JSON mode for Claude / Gemini) turns the
    flag on or off, and every behaviour the relay does not do as OpenAI does is named after ``+ probe:``.
    """
    from b3n._catalog import get_model_info

    info = get_model_info(model)
    if info.kind != "chat":
        return [info.kind], info.source
    json_mode = info.json_mode
    if probe and info.vendor in ("anthropic", "google") and "response_format" in probe:
        json_mode = probe["response_format"]  # the relay maps (or drops) JSON mode for this family
    flags = [name for name, on in (("tools", info.tool_calling), ("vision", info.image_inputs),
                                   ("json_schema", info.json_schema), ("json_mode", json_mode),
                                   ("stream", info.streaming), ("reasoning", info.reasoning)) if on]
    if not probe:
        return flags, info.source
    lacking = sorted(k for k, v in probe.items() if not v and k not in _NATIVE_ROUTES)
    return flags, f"{info.source} + probe" + (f": no {', no '.join(lacking)}" if lacking else "")


def _cmd_models(args: argparse.Namespace, out: TextIO) -> int:
    client = _client(args)
    client.config.require_api_key()
    entries = client.models.list()
    base_url = client.config.base_url
    if args.json:
        rows = []
        for m in entries:
            findings = _probe_findings(base_url, m.id) if m.kind in (None, "chat") else {}
            flags, source = _capabilities(m.id, findings)
            row: dict[str, Any] = {"id": m.id, "owned_by": m.owned_by, "kind": m.kind, "capabilities": flags,
                                   "capabilities_from": source}
            if m.kind in (None, "chat"):
                row["routes"] = _routes(findings)
            if findings:
                row["probe"] = findings
            rows.append(row)
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    width = max((len(m.id) for m in entries), default=5)
    out.write(f"{'MODEL':<{width}}  {'KIND':<9}  {'OWNED BY':<10}  {'CAPABILITIES':<44}  {'ROUTES':<16}  FROM\n")
    for m in sorted(entries, key=lambda e: e.id):
        chat = m.kind in (None, "chat")
        findings = _probe_findings(base_url, m.id) if chat else {}
        flags, source = _capabilities(m.id, findings)
        routes = "+".join(_routes(findings)) if chat else "-"
        out.write(f"{m.id:<{width}}  {m.kind or '-':<9}  {m.owned_by or '-':<10}  {','.join(flags):<44}  "
                  f"{routes:<16}  {source}\n")
    return 0


def _cmd_whoami(args: argparse.Namespace, out: TextIO) -> int:
    client = _client(args, access_token=args.access_token, user_id=args.user_id)
    me = client.account.whoami()
    if args.json:
        out.write(me.model_dump_json(exclude={"details"}, indent=2) + "\n")
        return 0
    name = me.display_name or me.username
    out.write(f"user:      {name} (@{me.username}, id {me.id})\n")
    out.write(f"group:     {me.group or '-'}\n")
    out.write(f"balance:   ${me.balance_usd:,.4f}  ({me.quota:,} quota units)\n")
    out.write(f"used:      ${me.used_usd:,.4f}  ({me.used_quota:,} quota units)\n")
    out.write(f"requests:  {me.request_count:,}\n")
    return 0


def _cmd_balance(args: argparse.Namespace, out: TextIO) -> int:
    client = _client(args, access_token=args.access_token, user_id=args.user_id)
    me = client.account.whoami()
    if args.json:
        out.write(json.dumps({"balance_usd": me.balance_usd, "quota": me.quota}) + "\n")
        return 0
    out.write(f"${me.balance_usd:,.4f}  ({me.quota:,} quota units)\n")
    return 0


def _cmd_chat(args: argparse.Namespace, out: TextIO) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    messages: list[dict[str, Any]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": prompt})
    params: dict[str, Any] = {}
    if args.temperature is not None:
        params["temperature"] = args.temperature
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    client = _client(args)
    client.config.require_api_key()
    usage = None
    model = args.model
    if args.stream:
        ended_with_newline = True
        for chunk in client.chat.stream(args.model, messages, **params):
            if chunk.content:
                out.write(chunk.content)
                out.flush()
                ended_with_newline = chunk.content.endswith("\n")
            if chunk.final:
                usage, model = chunk.usage, chunk.model or model
        if not ended_with_newline:
            out.write("\n")
    else:
        reply = client.chat.create(args.model, messages, **params)
        out.write((reply.content or "").rstrip("\n") + "\n")
        for call in reply.tool_calls:
            out.write(f"[tool call] {call.name}({call.arguments})\n")
        usage, model = reply.usage, reply.model or model
    out.flush()  # the reply's last newline reaches the terminal before the usage line on stderr
    if usage is not None:
        _TerminalSafe(sys.stderr).write(
            f"[{model}] tokens: {usage.prompt_tokens} prompt + {usage.completion_tokens} completion "
            f"= {usage.total_tokens}\n"
        )
    return 0


def _cmd_probe(args: argparse.Namespace, out: TextIO) -> int:
    from b3n._probe import DEFAULT_MODELS, probe

    report = probe(_client(args), tuple(args.models or DEFAULT_MODELS), save=args.save)
    if args.json:
        out.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        out.write(report.table() + "\n")
        if args.save:
            from b3n._probe_cache import cache_path

            out.write(f"cached in {cache_path()}\n")
    return 0


#: terminal escape sequences (CSI such as colours and cursor moves, OSC such as window titles and hyperlinks, and
#: two-character escapes), removed whole so that no half of one reaches the terminal.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI (7-bit or C1)
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # other two-character escapes
)
#: bidirectional overrides and isolates, which can make printed text read differently from what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def terminal_safe(text: str) -> str:
    r"""``text`` without terminal control characters: what the relay sends is printed, never obeyed.

    Escape sequences, other C0/C1 control characters (all but newline and tab) and bidi overrides are
    removed, so a model id, a user name, an error message or a chat answer cannot retitle the window,
    clear the screen, fake a prompt or hide text.

    Example:
        >>> terminal_safe("gpt-4o\x1b]0;pwned\x07\x1b[2J ok\r\n")
        'gpt-4o ok\n'
    """
    text = _ESCAPE_SEQUENCE.sub("", text)
    return "".join(
        ch for ch in text
        if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS)
    )


class _TerminalSafe:
    """A text stream that writes :func:`terminal_safe` text to ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(terminal_safe(text))

    def flush(self) -> None:
        self._stream.flush()


_COMMANDS = {
    "emulator": _cmd_emulator, "models": _cmd_models, "whoami": _cmd_whoami, "balance": _cmd_balance,
    "chat": _cmd_chat, "probe": _cmd_probe,
}

#: the Python argument names the core's messages use, and the command-line options that set them.
_OPTION_FOR_ARGUMENT = {
    "api_key": "--api-key", "base_url": "--base-url", "access_token": "--access-token", "user_id": "--user-id",
    "timeout": "--timeout",
}
_ARGUMENT = re.compile(r"(?<![\w.-])(" + "|".join(_OPTION_FOR_ARGUMENT) + r")(?:=\.\.\.)?(?![\w-])")


def with_options(message: str) -> str:
    """``message`` with the Python argument names of the core replaced by this command's options.

    The core's errors speak to Python callers (``Pass api_key=...``); at the command line the fix is an option.

    Example:
        >>> with_options("No B3n API key. Pass api_key=... or set the B3N_API_KEY environment variable.")
        'No B3n API key. Pass --api-key or set the B3N_API_KEY environment variable.'
        >>> with_options("timeout must be a positive number of seconds; stream_idle_timeout too. Check base_url.")
        '--timeout must be a positive number of seconds; stream_idle_timeout too. Check --base-url.'
    """
    return _ARGUMENT.sub(lambda m: _OPTION_FOR_ARGUMENT[m.group(1)], message)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``b3n`` console script; returns the exit code (0 ok, 2 error, 130 Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args, _TerminalSafe(sys.stdout))  # type: ignore[arg-type]
    except B3nError as exc:
        sys.stderr.write(f"b3n {args.command}: error: {terminal_safe(with_options(' '.join(str(exc).split())))}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
