"""Holding rows out, exactly as scikit-learn's ``train_test_split(..., shuffle=True,
random_state=seed)`` does, without importing its model-selection machinery.

scikit-learn draws ``RandomState(seed).permutation(n)``; the first
``ceil(test_size * n)`` rows of it are held out and the rest train, in that
order. The same rows in the same order keep the article's numbers bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from tinynet.engine.types import Array

__all__ = ["held_out_rows"]


def held_out_rows(n: int, fraction: float, seed: int) -> tuple[Array, Array]:
    """``(kept, held)`` row indices of ``n`` rows with ``ceil(fraction * n)`` held out, as
    ``train_test_split(test_size=fraction, shuffle=True, random_state=seed)`` picks them."""
    if not 0 < fraction < 1:
        raise ValueError(f"held_out_rows: fraction must be in (0, 1), got {fraction}")
    order = np.random.RandomState(seed).permutation(n)
    held = math.ceil(fraction * n)
    return order[held:], order[:held]
