"""`DataError`: a problem with the user's data or files, said in one line."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """A problem with the user's data, said in one line."""
