"""Scratch arrays kept for the next step: a layer that needs a large temporary of the same
shape every step (a convolution's im2col columns) takes it from a :class:`ScratchPool` and
gives it back when done, instead of allocating it anew.

Why: a fresh multi-megabyte array is new memory for the operating system, and touching it
the first time costs a page fault per page; in a LeNet training step those faults measured
about a third of the step's CPU time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.types import Array

__all__ = ["ScratchPool"]


class ScratchPool:
    """Free arrays by shape and dtype: ``take`` one (a new one when none is free), ``give``
    it back once its values are no longer needed.

    Shape: any; ``take(shape, dtype)`` returns an uninitialised array of ``shape``. The
    pool keeps at most ``limit`` free arrays (the oldest go first), so shapes seen once
    (a smaller last batch) do not pile up. A copy or pickle of a pool is empty.
    """

    def __init__(self, limit: int = 4) -> None:
        self.limit = limit
        self._free: list[Array] = []

    def take(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Array:
        """A free array of ``shape`` and ``dtype`` (its values are garbage), or a new one."""
        for index, array in enumerate(self._free):
            if array.shape == shape and array.dtype == dtype:
                return self._free.pop(index)
        return np.empty(shape, dtype=dtype)

    def give(self, array: Array) -> None:
        """Keep ``array`` for a later :meth:`take`; the caller must not use it afterwards."""
        self._free.append(array)
        if len(self._free) > self.limit:
            del self._free[0]

    def __len__(self) -> int:
        return len(self._free)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.limit,))

    def __repr__(self) -> str:
        return f"ScratchPool({len(self._free)} free of at most {self.limit})"
