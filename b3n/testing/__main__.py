"""``python -m b3n.testing --port 8000``: run the B3n emulator in the foreground."""

from __future__ import annotations

import argparse

from . import add_model_arguments, serve
from .relays import PROFILES
from .traffic import add_arguments


def main(argv: list[str] | None = None) -> None:
    """Parse command-line options and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m b3n.testing", description="Local B3n relay emulator")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--no-quirks", action="store_true", help="clean OpenAI behaviour for every model")
    parser.add_argument("--relay", choices=sorted(PROFILES), default="docs",
                        help="relay profile: how Claude and Gemini are translated (default docs)")
    add_model_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    serve(port=args.port, host=args.host, quirks=not args.no_quirks, relay=args.relay, traffic=args,
          strict=not args.lenient, prose_unless_forced=args.prose_unless_forced)


if __name__ == "__main__":
    main()
