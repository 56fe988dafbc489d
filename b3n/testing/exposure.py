"""A warning when the emulator listens beyond loopback (``--host 0.0.0.0``, a LAN address, a host name).

The emulator accepts any key, answers every route and keeps what it was sent in memory: it is a test
double, not a server to expose. Binding elsewhere is allowed (a container, a second machine on a lab
network) but never silent.

Example:
    >>> exposure_warning("127.0.0.1") is None, exposure_warning("::1") is None
    (True, True)
    >>> exposure_warning("0.0.0.0").split(":")[0]
    'The B3n emulator is listening on 0.0.0.0'
"""

from __future__ import annotations

import ipaddress


class EmulatorExposedWarning(UserWarning):
    """The emulator was bound to an address other machines may reach."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str | None:
    """The warning text for binding ``host``, or None when it is loopback-only."""
    if is_loopback(host):
        return None
    shown = host or "all interfaces"
    return (
        f"The B3n emulator is listening on {shown}: anyone who can reach this machine can use it "
        "(it accepts any key, has no rate limit of its own and keeps the requests it receives in memory). "
        "Use --host 127.0.0.1 (the default) unless you really mean to expose it."
    )


__all__ = ["EmulatorExposedWarning", "exposure_warning", "is_loopback"]
