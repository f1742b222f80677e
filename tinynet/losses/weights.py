"""Class and sample weights for the losses: checked once, then spread over the rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.types import Array
from tinynet.losses.base import Loss

__all__ = ["checked_weights", "row_weights", "mean_factors", "weighted_state"]


def checked_weights(weight: Any, name: str, ndim: int | None) -> Array:
    """Weights as a float64 array: finite, non-negative, ``ndim``-D (any of 0-D or 1-D if ``None``)."""
    try:
        array = np.array(weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers, got {weight!r}"[:200]) from None
    if (ndim is not None and array.ndim != ndim) or array.ndim > 1 or array.size == 0:
        what = "one number per class, shape (C,)" if ndim == 1 else "a number or one per output column"
        raise ValueError(f"{name} must be {what}, got shape {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"{name} must be finite and >= 0, got {array.tolist()}"[:200])
    array.flags.writeable = False
    return array


def row_weights(sample_weight: Array | None, batch: int, n: int, dtype: Any) -> Array | None:
    """Each of the ``n`` rows' (positions' or values') weight: its sample's, in ``dtype``."""
    if sample_weight is None:
        return None
    weights = sample_weight.astype(dtype, copy=False)
    return weights if n == batch else np.repeat(weights, n // batch)


def mean_factors(sample_weight: Array | None, batch: int, values: Array) -> tuple[Array, float]:
    """The factor of each value in a weighted mean, ``s_n / sum s`` (0 when all weights are 0),
    or the 0-D ``1/N`` without weights; and the samples' total weight. Shape: ``(N,)`` or ``()``."""
    if sample_weight is None:
        return values.dtype.type(1 / values.shape[0]), float(batch)
    rows = np.repeat(sample_weight.astype(values.dtype, copy=False), values.shape[0] // batch)
    total = rows.sum()
    return (rows / total if total > 0 else np.zeros_like(rows)), float(sample_weight.sum())


def weighted_state(loss: Loss) -> tuple[Any, ...]:
    state: tuple[Any, ...] | None = getattr(loss, "_weighted_state", None)
    if state is None:
        raise RuntimeError(f"{type(loss).__name__}.backward called before forward")
    return state
