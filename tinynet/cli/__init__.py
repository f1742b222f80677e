"""A face: the ``tinynet`` command (train, evaluate, predict, summary).

The commands' modules are imported when the command runs, and scikit-learn only
inside the commands that use it: ``tinynet --help`` costs little more than
``import tinynet``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tinynet ARGV`` (default: ``sys.argv[1:]``); return the exit status."""
    from tinynet.cli.commands import main as run

    return run(argv)
