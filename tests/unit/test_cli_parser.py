"""The ``b3n`` command's argument parser (no network)."""

from __future__ import annotations

from b3n.cli import build_parser


def test_cli_parser() -> None:
    parser = build_parser()
    args = parser.parse_args(["chat", "gpt-4o", "hi", "--system", "be brief", "--base-url", "http://x/v1"])
    assert (args.model, args.prompt, args.system, args.stream, args.base_url) == (
        "gpt-4o", "hi", "be brief", True, "http://x/v1")
    assert parser.parse_args(["emulator", "--no-quirks", "--port", "9"]).quirks is False
    help_text = parser.format_help()
    for env in ("B3N_API_KEY", "B3N_BASE_URL", "B3N_ACCESS_TOKEN", "B3N_USER_ID"):
        assert env in help_text
