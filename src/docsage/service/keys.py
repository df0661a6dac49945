"""Helpers for API keys at the edges: who counts as local, and lists given on a command line.
The keys themselves are ``docsage.ports.ApiKey``, kept by a ``KeyStore``."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def parse_list(raw: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())
