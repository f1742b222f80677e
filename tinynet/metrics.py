"""Metrics on a batch: each returns the *sum* over the batch's samples, so that
an epoch's value is the sum over batches divided by the sample count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["accuracy", "mean_squared_error", "METRICS"]

Array = NDArray[Any]


def accuracy(output: Array, target: Array) -> float:
    """Correct predictions in the batch.

    Shape: ``output (B, C)`` logits or probabilities (arg-max wins), or
    ``(B,)``/``(B, 1)`` binary logits (positive means class 1); ``target``
    labels ``(B,)`` or one-hot ``(B, C)``.
    """
    if output.ndim == 2 and output.shape[1] > 1:
        predicted = output.argmax(axis=1)
        labels = target.argmax(axis=1) if target.ndim == 2 else target
    else:
        predicted = output.reshape(-1) > 0
        labels = target.reshape(-1) > 0.5
    return float(np.count_nonzero(predicted == labels))


def mean_squared_error(output: Array, target: Array) -> float:
    """Squared error summed over the batch, averaged over output columns."""
    diff = output.reshape(output.shape[0], -1) - target.reshape(target.shape[0], -1)
    return float(np.einsum("Bj,Bj->", diff, diff)) / diff.shape[1]


METRICS = {"accuracy": accuracy, "mse": mean_squared_error}
