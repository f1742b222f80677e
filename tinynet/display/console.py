"""The one rich ``Console`` tinynet prints to."""

from __future__ import annotations

from rich.console import Console

__all__ = ["get_console"]

_console: list[Console] = []


def get_console() -> Console:
    """The one Console tinynet prints to (created on first use)."""
    if not _console:
        _console.append(Console())
    return _console[0]
