"""Measuring the memory a call allocates."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any


def peak_allocation(run: Callable[[], Any]) -> int:
    """The peak of numpy's traced allocations while ``run()`` executes, in bytes."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
