"""Metrics that are not a sum over samples (precision, recall, F1, ROC AUC): they accumulate
over an epoch and give their value at its end.

An :class:`EpochMetric` is called on every batch like a batch-sum metric (it returns
0.0 and keeps what it needs: a confusion matrix, or the scores and labels); the loop
calls :meth:`EpochMetric.reset` before a pass and :meth:`EpochMetric.result` after it.
Batch-sum metrics such as accuracy keep their own, cheaper path.

The definitions follow scikit-learn's functions (checked against them in the tests):
with two classes, the scores of class 1 (``average="binary"``, ``pos_label=1``);
with more, the unweighted mean over classes (``average="macro"``; ROC AUC one-vs-rest
on softmax probabilities, ``multi_class="ovr"``). A ratio with a zero denominator is 0
(scikit-learn's ``zero_division`` default); ROC AUC with a single class present is NaN.
"""

from __future__ import annotations

import numpy as np

from tinynet.engine.stable_functions import softmax
from tinynet.engine.types import Array

__all__ = ["EpochMetric", "Precision", "Recall", "F1", "RocAuc", "class_labels"]


class EpochMetric:
    """Base class: ``metric(output, target)`` per batch, then ``result()`` for the pass.

    Shape: ``output (B, ..., C)`` class logits (or probabilities), or ``(B,)``/``(B, 1)``
    binary logits; ``target`` labels ``(B, ...)`` or one-hot ``(B, ..., C)``.
    """

    def reset(self) -> None:
        """Forget the batches seen so far."""
        raise NotImplementedError

    def update(self, output: Array, target: Array) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def __call__(self, output: Array, target: Array) -> float:
        self.update(output, target)
        return 0.0


def class_labels(output: Array, target: Array) -> tuple[Array, Array, int]:
    """``(true labels, predicted labels, number of classes)``, flat over samples and positions.
    One output column is binary: a positive logit predicts class 1."""
    if output.ndim >= 2 and output.shape[-1] > 1:
        n_classes = output.shape[-1]
        predicted = output.argmax(axis=-1).reshape(-1)
        truth = target.argmax(axis=-1) if target.ndim == output.ndim else target
        return truth.reshape(-1).astype(np.intp), predicted, n_classes
    return (target.reshape(-1) > 0.5).astype(np.intp), (output.reshape(-1) > 0).astype(np.intp), 2


class _ConfusionMetric(EpochMetric):
    """Accumulates the confusion matrix (rows: true class, columns: predicted)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.confusion: Array | None = None

    def update(self, output: Array, target: Array) -> None:
        truth, predicted, n = class_labels(output, target)
        counts = np.bincount(truth * n + predicted, minlength=n * n).reshape(n, n)
        self.confusion = counts if self.confusion is None else self.confusion + counts

    def per_class(self) -> tuple[Array, Array]:
        """Per class: ``(precision, recall)``, 0 where nothing was predicted / present."""
        if self.confusion is None:
            return np.zeros(0), np.zeros(0)
        hits = np.diag(self.confusion).astype(np.float64)
        predicted, actual = self.confusion.sum(axis=0), self.confusion.sum(axis=1)
        precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
        recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
        return precision, recall

    def averaged(self, scores: Array) -> float:
        """Class 1's score for two classes, else the mean over classes (NaN before any batch)."""
        if scores.size == 0:
            return float("nan")
        return float(scores[1]) if scores.size == 2 else float(scores.mean())


class Precision(_ConfusionMetric):
    """Of the samples predicted as a class, the fraction that are (scikit-learn's
    ``precision_score``: binary for two classes, else macro)."""

    def result(self) -> float:
        return self.averaged(self.per_class()[0])


class Recall(_ConfusionMetric):
    """Of the samples of a class, the fraction predicted as it (``recall_score``)."""

    def result(self) -> float:
        return self.averaged(self.per_class()[1])


class F1(_ConfusionMetric):
    """The harmonic mean of precision and recall per class (``f1_score``), then averaged."""

    def result(self) -> float:
        precision, recall = self.per_class()
        total = precision + recall
        f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
        return self.averaged(f1)


class RocAuc(EpochMetric):
    """Area under the ROC curve (``roc_auc_score``): the probability that a random
    positive scores above a random negative, ties counting half. Binary logits score
    by the logit; class logits by their softmax probability, one class against the rest,
    averaged over classes. Keeps every score of the pass: ``(N, C)`` floats."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.scores: list[Array] = []
        self.labels: list[Array] = []

    def update(self, output: Array, target: Array) -> None:
        if output.ndim >= 2 and output.shape[-1] > 1:
            probabilities = softmax(output).reshape(-1, output.shape[-1])
            self.scores.append(probabilities)
            self.labels.append(class_labels(output, target)[0])
        else:
            self.scores.append(output.reshape(-1, 1))
            self.labels.append((target.reshape(-1) > 0.5).astype(np.intp))

    def result(self) -> float:
        if not self.scores:
            return float("nan")
        scores, labels = np.concatenate(self.scores), np.concatenate(self.labels)
        if scores.shape[1] == 1:
            return binary_auc(scores[:, 0], labels == 1)
        if scores.shape[1] == 2:
            return binary_auc(scores[:, 1], labels == 1)
        return float(np.mean([binary_auc(scores[:, c], labels == c) for c in range(scores.shape[1])]))


def binary_auc(scores: Array, positive: Array) -> float:
    """ROC AUC from the Mann-Whitney rank sum, ties given their average rank.
    Shape: ``scores (N,)``, ``positive (N,)`` booleans. NaN if one class is absent."""
    n_pos = int(np.count_nonzero(positive))
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2  # 1-based rank of each distinct score
    rank_sum = float(average_rank[inverse][positive].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
