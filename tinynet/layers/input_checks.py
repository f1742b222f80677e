"""The slow path of a ``(B, ..., features)`` layer's forward: convert, cast, or explain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinynet.engine.types import Array

__all__ = ["checked_features", "numeric_array"]


def numeric_array(x: Any, name: str, expected: str = "an array of numbers") -> Array:
    """``x`` as an ndarray of booleans, integers or floats (array-likes converted), or a
    ``TypeError`` saying that ``name`` expects ``expected`` and what came."""
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} expects {expected}, got {type(x).__name__}") from err
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} expects numbers, got an array of dtype {x.dtype}")
    return x


def checked_features(x: Any, name: str, features: int, dtype: np.dtype[Any],
                     suggest: Callable[[int], str], axis: int = -1) -> Array:
    """``x`` as an array of ``dtype`` with ``features`` on ``axis`` (the last, or 1 for
    ``(B, C, ...)`` layers), or a ``TypeError``/``ValueError`` that names the layer
    (``name``), the expected and the received shape, and the fix.

    Shape: ``(B, ..., features) -> (B, ..., features)`` (or ``(B, features, ...)``).
    Array-likes (nested lists) and integer arrays are converted. ``suggest(width)`` is
    the layer that would take inputs of ``width`` features, e.g. ``"Dense(5, 3)"``.
    Layers call this only when their fast check (an ndarray of the right shape and
    dtype) fails, so it costs nothing per step.
    """
    x = numeric_array(x, name)
    if x.ndim < 2 or x.shape[axis] != features:
        hint = ""
        if x.ndim == 1 and x.shape[0] == features:
            hint = "; for a single sample use x.reshape(1, -1)"
        elif x.ndim >= 2:
            hint = (f"; the previous layer or the data gives {x.shape[axis]} features, so "
                    f"either change it or use {suggest(x.shape[axis])}")
        wanted = (f"(batch, {features}) or (batch, ..., {features})" if axis == -1 else
                  f"(batch, {features}) or (batch, {features}, ...): features on axis {axis}")
        raise ValueError(f"{name} expected input of shape {wanted}, but received input with "
                         f"shape {x.shape}{hint}")
    return x.astype(dtype, copy=False)
