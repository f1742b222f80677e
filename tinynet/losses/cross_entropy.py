"""Softmax cross-entropy over the last axis, fused with its softmax."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from tinynet.engine.contraction import Plans, einsum
from tinynet.engine.stable_functions import shifted_exp
from tinynet.engine.types import Array
from tinynet.losses.base import Loss
from tinynet.losses.weights import checked_weights, row_weights, weighted_state

__all__ = ["SoftmaxCrossEntropy"]


class SoftmaxCrossEntropy(Loss):
    """Softmax over classes (the last axis), then categorical cross-entropy, averaged
    over every position (PyTorch's ``CrossEntropyLoss``, with classes last).

    Shape: logits ``(B, ..., C)``; target integer labels ``(B, ...)`` in ``[0, C)``
    or one-hot ``(B, ..., C)``. Returns a float. ``N`` below counts the positions:
    ``B`` for ``(B, C)`` logits, ``B T`` for ``(B, T, C)``.

    With ``log p = z - logsumexp(z)`` (stable for any finite logits: the row
    maximum is subtracted before ``exp``, and ``log`` is never taken of ``p``)::

        L        = -1/N sum_{N,c} t[N,c] log p[N,c]        "Nc,Nc->"
        dL/dz    = (p - t) / N

    ``weight``: one non-negative weight per class, shape ``(C,)``, as PyTorch's
    ``CrossEntropyLoss(weight=)``. With labels the mean is weighted,
    ``L = sum_N w[t_N] l_N / sum_N w[t_N]``; with one-hot targets each row's loss
    is scaled by its class's weight and, as in PyTorch, divided by the row count:
    ``L = sum_N w[t_N] l_N / N``. ``dL/dz[N] = w[t_N] (p[N] - t[N]) / D`` with ``D``
    that denominator. Per-sample weights (``fit(..., sample_weight=)``) multiply in.
    """

    task = "multiclass"
    LOSS = "Nc,Nc->"
    ROW_SUM = "Nc->N"

    def __init__(self, weight: Any = None) -> None:
        self.plans = Plans()
        self.weight = None if weight is None else checked_weights(weight, "SoftmaxCrossEntropy weight",
                                                                    ndim=1)
        if self.weight is not None:  # chosen once: the unweighted path stays as it was
            self.compute = self._compute_class_weighted  # type: ignore[method-assign]
            self.backward = self.backward_weighted  # type: ignore[method-assign]

    def config(self) -> dict[str, Any]:
        return {} if self.weight is None else {"weight": self.weight.tolist()}

    def _compute_class_weighted(self, logits: Array, target: Array) -> float:
        return self.compute_weighted(logits, target, None)

    def compute_weighted(self, logits: Array, target: Array, sample_weight: Array | None) -> float:
        z = logits if logits.ndim == 2 else logits.reshape(-1, logits.shape[-1])  # (N, C) rows
        labels = target.ndim < logits.ndim
        t = (target if labels else target.argmax(axis=-1)).reshape(-1).astype(np.intp, copy=False)
        sample = row_weights(sample_weight, logits.shape[0], z.shape[0], z.dtype)
        ones = np.ones(z.shape[0], z.dtype) if sample is None else sample
        rows = ones if self.weight is None else ones * self.weight.astype(z.dtype, copy=False)[t]
        self.weight_total = float(ones.sum())
        total = float(rows.sum()) if labels else self.weight_total  # PyTorch: one-hot rows count
        scale = rows / z.dtype.type(total) if total > 0 else np.zeros_like(rows)
        shifted, exp = shifted_exp(z)
        sums = exp.sum(axis=-1)
        at_label = _row_starts(z.shape) + t
        per_row = np.log(sums) - shifted.reshape(-1).take(at_label)  # -log p[N, t_N]
        self._weighted_state: tuple[Any, ...] = (exp, sums, at_label, scale, logits.shape)
        return float(scale @ per_row)

    def backward_weighted(self) -> Array:
        exp, sums, at_label, scale, shape = weighted_state(self)
        grad = exp * (scale / sums)[:, None]
        grad.reshape(-1)[at_label] -= scale
        return grad if len(shape) == 2 else grad.reshape(shape)

    def compute(self, logits: Array, target: Array) -> float:
        z = logits if logits.ndim == 2 else logits.reshape(-1, logits.shape[-1])  # (N, C) rows
        labels = target.ndim < logits.ndim
        t = target.reshape(-1) if labels else target.reshape(z.shape)
        shifted, exp = shifted_exp(z)
        sums = self.plans[self.ROW_SUM](exp)  # (N,); p = exp / sums, formed only in backward
        n = z.shape[0]
        if labels:  # -log p[N, t_N] = log(sums_N) - shifted[N, t_N]
            at_label: Array = _row_starts(z.shape) + (t if t.dtype is _INTP else t.astype(np.intp))  # flat
            self._state: tuple[Any, ...] = (exp, sums, at_label, labels, logits.shape)
            picked = shifted.take(at_label)  # (take reads the flattened array)
            return float(np.add.reduce(np.log(sums) - picked)) / n
        self._state = (exp, sums, t, labels, logits.shape)
        log_p = shifted - np.log(sums)[:, None]
        return -float(einsum(self.LOSS, t.astype(log_p.dtype, copy=False), log_p)) / n

    def backward(self) -> Array:
        exp, sums, t, labels, shape = self._saved()
        n = exp.shape[0]
        if labels:  # t: the flat positions of the labels (see compute)
            grad = exp / (sums * n)[:, None]
            grad.reshape(-1)[t] -= 1 / n  # (a Python float keeps the dtype)
        else:
            grad = exp / sums[:, None]
            grad -= t
            grad *= exp.dtype.type(1 / n)
        return grad if len(shape) == 2 else grad.reshape(shape)

    def check_target(self, target: Array, output_shape: tuple[int, ...], name: str = "target") -> None:
        """Labels ``(B, ...)`` must be integers in ``[0, C)``; one-hot ``(B, ..., C)`` rows
        must hold one 1 and zeros."""
        if not output_shape:
            raise ValueError("SoftmaxCrossEntropy needs logits (B, ..., classes); the model gives "
                             "one value per sample: use SigmoidBinaryCrossEntropy for two classes")
        n_classes, positions = output_shape[-1], output_shape[:-1]
        if self.weight is not None and len(self.weight) != n_classes:
            raise ValueError(f"SoftmaxCrossEntropy: weight has {len(self.weight)} entries but the model "
                             f"gives {n_classes} classes; pass one weight per class")
        if target.shape[1:] == positions:
            if target.dtype.kind == "f":
                if not np.isfinite(target).all() or not (target == np.round(target)).all():
                    raise ValueError(f"SoftmaxCrossEntropy: {name} labels must be integers in "
                                     f"[0, {n_classes}), got non-integer values")
            elif target.dtype.kind not in "iu":
                raise TypeError(f"SoftmaxCrossEntropy: {name} labels must be integers, "
                                f"got dtype {target.dtype}")
            if target.size and (target.min() < 0 or target.max() >= n_classes):
                bad = target[(target < 0) | (target >= n_classes)][0]
                raise ValueError(f"SoftmaxCrossEntropy: {name} labels must be in [0, {n_classes}) "
                                 f"for {n_classes} logits, got {bad!r} (labels span "
                                 f"{target.min()}..{target.max()})")
        elif target.shape[1:] == output_shape:
            if not (((target == 0) | (target == 1)).all() and (target.sum(axis=-1) == 1).all()):
                raise ValueError(f"SoftmaxCrossEntropy: {name} of shape {target.shape} is not "
                                 f"one-hot (each row must be zeros and a single 1)")
        elif target.ndim == len(output_shape) + 1 and target.shape[1:-1] == positions:
            if target.shape[-1] == 1 and target.dtype.kind in "iu":
                raise ValueError(f"SoftmaxCrossEntropy: {name} of shape {target.shape} holds one label "
                                 f"per row in a column; flatten it to labels {target.shape[:-1]} with "
                                 f"{name.split()[-1]}.ravel()")
            raise ValueError(f"SoftmaxCrossEntropy: one-hot {name} must have {n_classes} "
                             f"columns like the logits, got shape {target.shape}")
        else:
            rows = ", ".join(map(str, positions))
            labels = f"(B{', ' if rows else ''}{rows})"
            raise ValueError(f"SoftmaxCrossEntropy: {name} must be labels {labels} or one-hot "
                             f"(B, {', '.join(map(str, output_shape))}) for logits shaped (B, "
                             f"{', '.join(map(str, output_shape))}), got shape {target.shape}")


_INTP = np.dtype(np.intp)


@lru_cache(maxsize=64)
def _row_starts(shape: tuple[int, int]) -> Array:
    """Where each row of an ``(N, C)`` array starts once flattened, ``arange(N) * C``;
    cached: it locates each row's label on every step."""
    starts = np.arange(shape[0], dtype=np.intp) * shape[1]
    starts.flags.writeable = False
    return starts
