"""Sizes checked before allocating: an array too large for the machine (or for the
file being loaded) is a ``ValueError`` naming its size in bytes, never a
``MemoryError`` after a long wait.

:func:`check_size` is called where tinynet allocates a layer's arrays (the
initialisers, ``Parameter``, ``one_hot``). Inside :func:`allocation_budget`,
which ``tinynet.load`` sets to what the file's arrays hold, the sizes checked
also count against the budget: an architecture that would need more memory
than its file holds fails before it allocates.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import numpy as np

__all__ = ["check_size", "memory_limit", "allocation_budget", "BudgetExceeded"]


class BudgetExceeded(ValueError):
    """An allocation beyond the budget of :func:`allocation_budget`."""


class _Budget:
    def __init__(self, nbytes: int, what: str) -> None:
        self.left, self.what = nbytes, what


_BUDGET: ContextVar[_Budget | None] = ContextVar("tinynet_allocation_budget", default=None)


@functools.cache
def memory_limit() -> int:
    """The machine's physical memory in bytes (``2**40`` where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 2**40


def check_size(shape: Sequence[Any], dtype: Any, what: str) -> int:
    """The bytes of an array of ``shape`` and ``dtype``; ``ValueError`` naming ``what``
    when that is more than the machine's memory (or the current allocation budget)."""
    nbytes = math.prod(int(n) for n in shape) * np.dtype(dtype).itemsize
    limit = memory_limit()
    if nbytes > limit:
        raise ValueError(f"{what}: an array of shape {tuple(shape)} ({np.dtype(dtype)}) needs "
                         f"{nbytes:,} bytes, more than this machine's {limit:,} bytes of memory")
    budget = _BUDGET.get()
    if budget is not None:
        if nbytes > budget.left:
            raise BudgetExceeded(f"{what}: an array of shape {tuple(shape)} needs {nbytes:,} bytes, "
                                 f"more than {budget.what}")
        budget.left -= nbytes
    return nbytes


@contextlib.contextmanager
def allocation_budget(nbytes: int, what: str) -> Iterator[None]:
    """Inside, the sizes :func:`check_size` sees may add up to ``nbytes`` at most;
    ``what`` completes the error (e.g. ``"the 4,096 bytes the file holds"``)."""
    token = _BUDGET.set(_Budget(nbytes, what))
    try:
        yield
    finally:
        _BUDGET.reset(token)
