"""Mean squared error."""

from __future__ import annotations

from typing import Any

from tinynet.engine.contraction import einsum
from tinynet.engine.types import Array
from tinynet.losses.base import Loss, same_rows
from tinynet.losses.weights import mean_factors, weighted_state

__all__ = ["MeanSquaredError"]


class MeanSquaredError(Loss):
    """Mean squared error over every value of the batch (PyTorch's ``MSELoss``).

    Shape: output ``(B,)``, ``(B, J)`` or any ``(B, ...)``; target of the same
    shape (``(B,)`` and ``(B, 1)`` combine either way). Returns a float. With
    ``d = y - t`` and ``N`` values::

        L      = 1/N sum_N d[N]^2     "N,N->"
        dL/dy  = 2 d / N
    """

    task = "regression"
    vector_logits = True
    LOSS = "N,N->"

    def compute_weighted(self, logits: Array, target: Array, sample_weight: Array | None) -> float:
        y = logits.reshape(-1)
        diff = y - target.reshape(-1).astype(y.dtype, copy=False)
        scale, self.weight_total = mean_factors(sample_weight, logits.shape[0], y)
        self._weighted_state: tuple[Any, ...] = (2 * scale * diff, logits.shape)
        return float((scale * diff) @ diff)

    def backward_weighted(self) -> Array:
        grad, shape = weighted_state(self)
        return grad.reshape(shape)

    def compute(self, logits: Array, target: Array) -> float:
        y = logits.reshape(-1)
        diff = y - target.reshape(-1).astype(y.dtype, copy=False)
        self._state = (diff, logits.shape)
        return float(einsum(self.LOSS, diff, diff)) / diff.size

    def backward(self) -> Array:
        diff, shape = self._saved()
        return (diff * diff.dtype.type(2 / diff.size)).reshape(shape)

    def check_target(self, target: Array, output_shape: tuple[int, ...], name: str = "target") -> None:
        """Numbers shaped like the output (``(B,)`` and ``(B, 1)`` interchangeable)."""
        if target.dtype.kind not in "biuf":
            raise TypeError(f"MeanSquaredError: {name} must hold numbers, got dtype {target.dtype}")
        if not same_rows(target, output_shape):
            shape = ", ".join(map(str, output_shape))
            hint = ("; for one target per sample end the model in Dense(..., 1)"
                    if target.ndim == 1 else "")
            raise ValueError(f"MeanSquaredError: {name} must have shape (B{', ' if shape else ''}{shape}) "
                             f"to match the model's outputs, got {target.shape}{hint}")
