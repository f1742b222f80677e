"""Type aliases shared by every level."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

__all__ = ["Array", "Shape"]

Array = NDArray[Any]
"""Any numpy array (the dtype is checked at run time where it matters)."""

Shape = tuple[int | None, ...]
"""An array shape whose batch axis may be unknown (``None``)."""
