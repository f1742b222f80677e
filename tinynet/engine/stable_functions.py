"""Numerically stable sigmoid and softmax, written once for layers, losses and estimators.

Shape: ``sigmoid`` is elementwise, any shape; the softmax family works along
the last axis, ``(..., C) -> (..., C)``. Results keep the input's float dtype.
"""

from __future__ import annotations

import numpy as np

from tinynet.engine.types import Array

__all__ = ["sigmoid", "row_max", "shifted_exp", "softmax", "log_softmax"]


def sigmoid(x: Array, e: Array | None = None) -> Array:
    """``1 / (1 + exp(-x))``, computed from ``e = exp(-|x|)`` as ``1 / (1 + e)`` for
    ``x >= 0`` and ``e / (1 + e)`` below: ``exp`` never overflows and tiny values keep
    their precision. Pass ``e`` when you computed it already (a loss needs it too).

    Shape: any ``(...) -> (...)``.
    """
    if e is None:
        e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)  # the Python 1 takes e's dtype


def shifted_exp(x: Array) -> tuple[Array, Array]:
    """``(s, exp(s))`` with ``s = x - max(x)`` along the last axis: the stable first step
    of softmax and log-softmax (``exp(s) <= 1``, and at least one is 1, so no overflow
    and no division by zero).

    Shape: ``(..., C) -> (..., C), (..., C)``.
    """
    shifted = x - row_max(x)
    return shifted, np.exp(shifted)


def row_max(x: Array) -> Array:
    """``x.max(axis=-1, keepdims=True)``, fast for the few columns of class logits.

    Shape: ``(..., C) -> (..., 1)``.

    numpy reduces a short last axis one row at a time; the same maximum over the
    first axis of a transposed copy walks contiguous memory, and is faster even
    with the copy.
    """
    if x.ndim == 2 and x.shape[0] >= 16 and x.shape[1] <= 32:
        return np.maximum.reduce(np.ascontiguousarray(x.T), axis=0)[:, None]
    return x.max(axis=-1, keepdims=True)


def softmax(x: Array) -> Array:
    """``exp(x) / sum(exp(x))`` along the last axis, without overflow.

    Shape: ``(..., C) -> (..., C)``.
    """
    _, p = shifted_exp(x)
    p /= p.sum(axis=-1, keepdims=True)
    return p


def log_softmax(x: Array) -> Array:
    """``log(softmax(x))`` along the last axis, as ``s - log(sum(exp(s)))``: never ``log(0)``.

    Shape: ``(..., C) -> (..., C)``.
    """
    shifted, e = shifted_exp(x)
    return shifted - np.log(e.sum(axis=-1, keepdims=True))
