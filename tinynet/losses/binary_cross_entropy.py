"""Sigmoid binary cross-entropy, fused with its sigmoid."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.contraction import einsum
from tinynet.engine.stable_functions import sigmoid
from tinynet.engine.types import Array
from tinynet.losses.base import Loss, same_rows
from tinynet.losses.weights import checked_weights, mean_factors, weighted_state

__all__ = ["SigmoidBinaryCrossEntropy"]


class SigmoidBinaryCrossEntropy(Loss):
    """Sigmoid, then binary cross-entropy, averaged over every value (PyTorch's
    ``BCEWithLogitsLoss``): the model ends in *logits*, the sigmoid lives in the
    loss. For probabilities at inference, apply :class:`tinynet.Sigmoid`.

    Shape: logits ``(B,)``, ``(B, 1)`` or any ``(B, ...)``; target 0/1 labels of the
    same shape (``(B,)`` and ``(B, 1)`` combine either way; the gradient has the
    logits' shape). Returns a float. With ``N`` the number of values,
    ``-log sigmoid(z) = softplus(-z)`` and ``softplus(z) = max(z, 0) + log1p(exp(-|z|))``
    (``exp`` of a non-positive number only: no overflow, no ``log(0)``)::

        L      = 1/N sum_N [max(z, 0) - t z + log1p(exp(-|z|))]     "N->"
        dL/dz  = (sigmoid(z) - t) / N

    ``pos_weight``: the weight of the positive term, as PyTorch's
    ``BCEWithLogitsLoss(pos_weight=)``: a non-negative number, or one per output column
    (shape ``(K,)`` for ``(B, K)`` logits). With ``a = 1 + (pos_weight - 1) t``::

        l      = (1 - t) z + a softplus(-z),   dl/dz = (1 - t) - a (1 - sigmoid(z))
    """

    task = "binary"
    vector_logits = True
    LOSS = "N->"

    def __init__(self, pos_weight: Any = None) -> None:
        self.pos_weight = None if pos_weight is None else checked_weights(
            pos_weight, "SigmoidBinaryCrossEntropy pos_weight", ndim=None)
        if self.pos_weight is not None:  # chosen once: the unweighted path stays as it was
            self.compute = self._compute_pos_weighted  # type: ignore[method-assign]
            self.backward = self.backward_weighted  # type: ignore[method-assign]

    def config(self) -> dict[str, Any]:
        return {} if self.pos_weight is None else {"pos_weight": self.pos_weight.tolist()}

    def _compute_pos_weighted(self, logits: Array, target: Array) -> float:
        return self.compute_weighted(logits, target, None)

    def compute_weighted(self, logits: Array, target: Array, sample_weight: Array | None) -> float:
        z = logits.reshape(-1)
        t = target.reshape(-1).astype(z.dtype, copy=False)
        e = np.exp(-np.abs(z))
        p = sigmoid(z, e)
        if self.pos_weight is None:
            per_value = np.maximum(z, 0) - t * z + np.log1p(e)
            slope = p - t
        else:
            pw = self.pos_weight.astype(z.dtype, copy=False)
            a = 1 + (np.broadcast_to(pw, logits.shape).reshape(-1) - 1) * t
            per_value = (1 - t) * z + a * (np.maximum(-z, 0) + np.log1p(e))  # softplus(-z)
            slope = (1 - t) - a * (1 - p)
        scale, self.weight_total = mean_factors(sample_weight, logits.shape[0], z)
        self._weighted_state: tuple[Any, ...] = (scale * slope, logits.shape)
        return float(scale @ per_value) if scale.ndim else float(per_value.sum() * scale)

    def backward_weighted(self) -> Array:
        grad, shape = weighted_state(self)
        return grad.reshape(shape)

    def compute(self, logits: Array, target: Array) -> float:
        z = logits.reshape(-1)
        t = target.reshape(-1).astype(z.dtype, copy=False)
        e = np.exp(-np.abs(z))
        per_value = np.maximum(z, 0) - t * z + np.log1p(e)
        self._state = (sigmoid(z, e), t, logits.shape)  # sigmoid from the same e
        return float(einsum(self.LOSS, per_value)) / z.shape[0]

    def backward(self) -> Array:
        p, t, shape = self._saved()
        grad = (p - t) / p.dtype.type(p.shape[0])
        return grad.reshape(shape)

    def check_target(self, target: Array, output_shape: tuple[int, ...], name: str = "target") -> None:
        """0/1 labels shaped like the logits (``(B,)`` and ``(B, 1)`` interchangeable)."""
        columns = output_shape[-1] if output_shape else 1
        if self.pos_weight is not None and self.pos_weight.size not in (1, columns):
            raise ValueError(f"SigmoidBinaryCrossEntropy: pos_weight has {self.pos_weight.size} entries "
                             f"but the logits have {columns} columns; pass one number or one per column")
        if not same_rows(target, output_shape):
            if len(output_shape) == 1 and output_shape[0] > 1 and target.ndim == 1:
                raise ValueError(f"SigmoidBinaryCrossEntropy needs one logit per sample (model output "
                                 f"(B,) or (B, 1)), but the model gives {output_shape[0]} outputs; end "
                                 f"the model in Dense(..., 1), or use SoftmaxCrossEntropy for "
                                 f"{output_shape[0]} classes")
            raise ValueError(f"SigmoidBinaryCrossEntropy: {name} must be 0/1 labels shaped like the "
                             f"logits (B, {', '.join(map(str, output_shape))}), got shape {target.shape}")
        if target.dtype.kind not in "biuf":
            raise TypeError(f"SigmoidBinaryCrossEntropy: {name} must hold numbers 0/1, "
                            f"got dtype {target.dtype}")
        bad = (target != 0) & (target != 1)
        if bad.any():
            values = np.unique(target[bad])[:5].tolist()
            raise ValueError(f"SigmoidBinaryCrossEntropy: {name} must hold labels 0 and 1 only, "
                             f"got {values}; map other labels first, e.g. (y == positive_label)")
