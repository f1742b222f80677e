"""The one rich ``Console`` tinynet prints to."""

from __future__ import annotations

import contextlib
import os
import sys

from rich.console import Console

__all__ = ["get_console", "TinynetConsole", "BROKEN_PIPE", "silence_stdout"]

BROKEN_PIPE = 141  # the shell's status for a writer whose reader left (128 + SIGPIPE), as `head` expects

_console: list[Console] = []


class TinynetConsole(Console):
    """rich's Console, ending quietly with status 141 when the reader of standard output left
    (``tinynet evaluate ... | head -3``; rich's own choice is status 1)."""

    def on_broken_pipe(self) -> None:
        if self.quiet:
            return
        silence_stdout()
        raise SystemExit(BROKEN_PIPE)


def silence_stdout() -> None:
    """Point standard output at ``/dev/null`` after its reader left: what is still buffered is
    dropped there, not reported as "[Errno 32] Broken pipe" when Python exits."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def get_console() -> Console:
    """The one Console tinynet prints to (created on first use)."""
    if not _console:
        _console.append(TinynetConsole())
    return _console[0]
