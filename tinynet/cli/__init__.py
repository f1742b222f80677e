"""A face: the ``tinynet`` command (train, evaluate, predict, summary)."""

from tinynet.cli.commands import main

__all__ = ["main"]
