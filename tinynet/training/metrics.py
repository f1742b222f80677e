"""Metrics on a batch: each returns the *sum* over the batch's samples, so that
an epoch's value is the sum over batches divided by the sample count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet.engine.contraction import einsum

__all__ = ["accuracy", "binary_accuracy", "mean_squared_error", "mean_absolute_error", "METRICS"]

Array = NDArray[Any]
SQUARED_SUM = "Bj,Bj->"  # sum over the batch and the outputs of d[B,j] d[B,j]


def accuracy(output: Array, target: Array) -> float:
    """Correct predictions in the batch.

    Shape: ``output (B, C)`` logits or probabilities (arg-max wins), or
    ``(B,)``/``(B, 1)`` binary logits (positive means class 1); ``target``
    labels ``(B,)`` or one-hot ``(B, C)``.
    """
    if output.ndim == 2 and output.shape[1] > 1:
        predicted = output.argmax(axis=1)
        labels = target.argmax(axis=1) if target.ndim == 2 else target
        return float(np.count_nonzero(predicted == labels))
    return binary_accuracy(output, target)


def mean_squared_error(output: Array, target: Array) -> float:
    """Squared error summed over the batch, averaged over output columns.

    Shape: ``output (B, J)`` or ``(B,)``; ``target`` the same number of values per row.
    """
    diff = output.reshape(output.shape[0], -1) - target.reshape(target.shape[0], -1)
    return float(einsum(SQUARED_SUM, diff, diff)) / diff.shape[1]


def binary_accuracy(output: Array, target: Array) -> float:
    """Correct 0/1 predictions in the batch from one *logit* per sample: a logit
    above 0 (sigmoid above 0.5) predicts 1.

    Shape: ``output (B,)`` or ``(B, 1)``; ``target`` 0/1 labels ``(B,)`` or ``(B, 1)``.
    """
    predicted = output.reshape(-1) > 0
    return float(np.count_nonzero(predicted == (target.reshape(-1) > 0.5)))


def mean_absolute_error(output: Array, target: Array) -> float:
    """Absolute error summed over the batch, averaged over output columns.

    Shape: ``output (B, J)`` or ``(B,)``; ``target`` the same number of values per row.
    """
    diff = output.reshape(output.shape[0], -1) - target.reshape(target.shape[0], -1)
    return float(np.abs(diff).sum()) / diff.shape[1]


METRICS = {"accuracy": accuracy, "binary_accuracy": binary_accuracy, "mse": mean_squared_error,
           "mae": mean_absolute_error}
