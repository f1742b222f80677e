"""Metrics on a batch: each returns the *sum* over the batch's samples, so that
an epoch's value is the sum over batches divided by the sample count. A sample
with several positions (``(B, T, C)`` outputs) counts as the mean over its
positions, so the epoch's value is the mean over every position.

Metrics that are no such sum (``precision``, ``recall``, ``f1``, ``roc_auc``) are
:class:`~tinynet.training.epoch_metrics.EpochMetric` classes: a fresh one per run,
accumulating over the pass (:func:`epoch_values`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.contraction import einsum
from tinynet.engine.types import Array
from tinynet.training.epoch_metrics import F1, EpochMetric, Precision, Recall, RocAuc

__all__ = ["accuracy", "binary_accuracy", "mean_squared_error", "mean_absolute_error", "METRICS",
           "reset_epoch_metrics", "epoch_values"]

SQUARED_SUM = "Bj,Bj->"  # sum over the batch and the outputs of d[B,j] d[B,j]


def accuracy(output: Array, target: Array) -> float:
    """Correct predictions in the batch (per sample, the fraction of its positions).

    Shape: ``output (B, ..., C)`` logits or probabilities (arg-max over the last
    axis wins), or ``(B,)``/``(B, 1)`` binary logits (positive means class 1);
    ``target`` labels ``(B, ...)`` or one-hot ``(B, ..., C)``.
    """
    if output.ndim >= 2 and output.shape[-1] > 1:
        predicted = output.argmax(axis=-1)
        labels = target.argmax(axis=-1) if target.ndim == output.ndim else target
        correct = np.count_nonzero(predicted == labels)
        return float(correct) * predicted.shape[0] / predicted.size
    return binary_accuracy(output, target)


def mean_squared_error(output: Array, target: Array) -> float:
    """Squared error summed over the batch, averaged over output columns.

    Shape: ``output (B, ...)``; ``target`` the same number of values per row.
    """
    diff = output.reshape(output.shape[0], -1) - target.reshape(target.shape[0], -1)
    return float(einsum(SQUARED_SUM, diff, diff)) / diff.shape[1]


def binary_accuracy(output: Array, target: Array) -> float:
    """Correct 0/1 predictions in the batch from *logits*: a logit above 0 (sigmoid
    above 0.5) predicts 1 (per sample, the fraction of its values).

    Shape: ``output (B, ...)``; ``target`` 0/1 labels with as many values.
    """
    if output.size != target.size:
        raise ValueError(f"binary_accuracy needs one logit per 0/1 label, got outputs of shape "
                         f"{output.shape} for targets of shape {target.shape}; for "
                         f"{output.shape[-1]} classes use 'accuracy'")
    predicted = output.reshape(-1) > 0
    correct = np.count_nonzero(predicted == (target.reshape(-1) > 0.5))
    return float(correct) * output.shape[0] / predicted.size


def mean_absolute_error(output: Array, target: Array) -> float:
    """Absolute error summed over the batch, averaged over output columns.

    Shape: ``output (B, ...)``; ``target`` the same number of values per row.
    """
    diff = output.reshape(output.shape[0], -1) - target.reshape(target.shape[0], -1)
    return float(np.abs(diff).sum()) / diff.shape[1]


METRICS: dict[str, Any] = {
    "accuracy": accuracy, "binary_accuracy": binary_accuracy, "mse": mean_squared_error,
    "mae": mean_absolute_error, "precision": Precision, "recall": Recall, "f1": F1, "roc_auc": RocAuc}


def reset_epoch_metrics(fns: dict[str, Any]) -> None:
    """Before a pass: forget what the epoch metrics accumulated in the last one."""
    for fn in fns.values():
        if isinstance(fn, EpochMetric):
            fn.reset()


def epoch_values(fns: dict[str, Any], sums: dict[str, float], seen: int) -> dict[str, float]:
    """After a pass: batch-sum metrics divided by the ``seen`` samples, epoch metrics' results."""
    return {name: fn.result() if isinstance(fn, EpochMetric) else sums[name] / seen
            for name, fn in fns.items()}
