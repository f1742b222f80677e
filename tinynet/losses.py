"""Losses: ``forward(logits, target) -> float`` (mean over the batch) and
``backward() -> dL/dlogits``, each fused with its output activation for a
stable, cheap gradient.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet.engine.contraction import einsum
from tinynet.engine.stable_functions import shifted_exp, sigmoid

__all__ = ["Loss", "SoftmaxCrossEntropy", "SigmoidBinaryCrossEntropy", "MeanSquaredError"]

Array = NDArray[Any]


class Loss:
    """Base class: ``forward`` validates its inputs, then calls ``compute``.

    Shape: logits ``(B, C)`` (or ``(B,)`` where ``vector_logits``) and a target of
    ``B`` rows ``-> float``; ``backward() -> (B, C)``, the logits' shape.

    Subclasses implement ``compute(logits, target) -> float`` (keeping what
    ``backward`` needs), ``backward() -> dL/dlogits`` and ``check_target``.
    The training loop validates the whole target once with ``check_target``
    and then calls ``compute`` per batch, so validation costs nothing per step.
    ``task`` tells it which default metric fits: ``"multiclass"``,
    ``"binary"`` or ``"regression"``.
    """

    task = "regression"
    vector_logits = False  # whether 1-D logits (B,) are accepted besides (B, C)

    def forward(self, logits: Array, target: Array) -> float:
        """Mean loss of the batch. Shape: logits ``(B, C)``; target as the subclass says."""
        _check_logits(self, logits)
        target = np.asarray(target)
        if target.ndim == 0 or target.shape[0] != logits.shape[0]:
            raise ValueError(f"{type(self).__name__}: target has shape {target.shape} but logits "
                             f"have {logits.shape}; both need the same number of rows")
        self.check_target(target, logits.shape[1] if logits.ndim == 2 else 1)
        return self.compute(logits, target)

    def compute(self, logits: Array, target: Array) -> float:
        """``forward`` without validation (the training loop validated already)."""
        raise NotImplementedError

    def backward(self) -> Array:
        raise NotImplementedError

    def __call__(self, logits: Array, target: Array) -> float:
        return self.forward(logits, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def check_target(self, target: Array, n_outputs: int, name: str = "target") -> None:
        """Raise ``ValueError`` if ``target`` cannot be a target for ``n_outputs`` logits."""


def _check_logits(loss: Loss, logits: Array) -> None:
    allowed = (1, 2) if loss.vector_logits else (2,)
    if not isinstance(logits, np.ndarray) or logits.ndim not in allowed:
        shape = getattr(logits, "shape", type(logits).__name__)
        what = "(batch,) or (batch, outputs)" if loss.vector_logits else "a 2-D array (batch, classes)"
        raise ValueError(f"{type(loss).__name__}: logits must be {what}, got {shape}")


class SoftmaxCrossEntropy(Loss):
    """Softmax over classes, then categorical cross-entropy, averaged over the batch.

    Shape: logits ``(B, C)``; target integer labels ``(B,)`` in ``[0, C)`` or
    one-hot ``(B, C)``. Returns a float.

    With ``log p = z - logsumexp(z)`` (stable for any finite logits: the row
    maximum is subtracted before ``exp``, and ``log`` is never taken of ``p``)::

        L        = -1/B sum_{B,c} t[B,c] log p[B,c]        "Bc,Bc->"
        dL/dz    = (p - t) / B
    """

    task = "multiclass"
    LOSS = "Bc,Bc->"
    ROW_SUM = "Bc->B"

    def __init__(self) -> None:
        self._exp: Array | None = None
        self._sums: Array | None = None
        self._target: Array | None = None

    def compute(self, logits: Array, target: Array) -> float:
        shifted, exp = shifted_exp(logits)
        sums = einsum(self.ROW_SUM, exp)[:, None]  # p = exp / sums, formed only in backward
        self._exp, self._sums, self._target = exp, sums, target
        batch = logits.shape[0]
        if target.ndim == 1:  # -log p[B, t_B] = log(sums_B) - shifted[B, t_B]
            picked = shifted[_rows(batch), target.astype(np.intp, copy=False)]
            return float((np.log(sums[:, 0]) - picked).sum()) / batch
        log_p = shifted - np.log(sums)
        return -float(einsum(self.LOSS, target.astype(log_p.dtype, copy=False), log_p)) / batch

    def backward(self) -> Array:
        if self._exp is None or self._sums is None or self._target is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward called before forward")
        exp, target = self._exp, self._target
        batch = exp.shape[0]
        if target.ndim == 1:
            grad = exp / (self._sums * batch)
            grad[_rows(batch), target.astype(np.intp, copy=False)] -= exp.dtype.type(1 / batch)
        else:
            grad = exp / self._sums
            grad -= target
            grad *= exp.dtype.type(1 / batch)
        return grad

    def check_target(self, target: Array, n_outputs: int, name: str = "target") -> None:
        """Labels ``(B,)`` must be integers in ``[0, C)``; one-hot ``(B, C)`` rows must hold
        one 1 and zeros."""
        if target.ndim == 1:
            if target.dtype.kind == "f":
                if not np.isfinite(target).all() or not (target == np.round(target)).all():
                    raise ValueError(f"SoftmaxCrossEntropy: {name} labels must be integers in "
                                     f"[0, {n_outputs}), got non-integer values")
            elif target.dtype.kind not in "iu":
                raise TypeError(f"SoftmaxCrossEntropy: {name} labels must be integers, "
                                f"got dtype {target.dtype}")
            if target.size and (target.min() < 0 or target.max() >= n_outputs):
                bad = target[(target < 0) | (target >= n_outputs)][0]
                raise ValueError(f"SoftmaxCrossEntropy: {name} labels must be in [0, {n_outputs}) "
                                 f"for {n_outputs} logits, got {bad!r} (labels span "
                                 f"{target.min()}..{target.max()})")
        elif target.ndim == 2:
            if target.shape[1] != n_outputs:
                raise ValueError(f"SoftmaxCrossEntropy: one-hot {name} must have {n_outputs} "
                                 f"columns like the logits, got shape {target.shape}")
            if not (((target == 0) | (target == 1)).all() and (target.sum(axis=1) == 1).all()):
                raise ValueError(f"SoftmaxCrossEntropy: {name} of shape {target.shape} is not "
                                 f"one-hot (each row must be zeros and a single 1)")
        else:
            raise ValueError(f"SoftmaxCrossEntropy: {name} must be labels (B,) or one-hot (B, C), "
                             f"got shape {target.shape}")


class SigmoidBinaryCrossEntropy(Loss):
    """Sigmoid, then binary cross-entropy, averaged over the batch (PyTorch's
    ``BCEWithLogitsLoss``): the model ends in one *logit* per sample, the sigmoid
    lives in the loss. For probabilities at inference, apply :class:`tinynet.Sigmoid`.

    Shape: logits ``(B,)`` or ``(B, 1)``; target 0/1 labels ``(B,)`` or ``(B, 1)``
    (any combination; the gradient has the logits' shape). Returns a float.

    With ``-log sigmoid(z) = softplus(-z)`` and ``softplus(z) = max(z, 0) + log1p(exp(-|z|))``
    (``exp`` of a non-positive number only: no overflow, no ``log(0)``)::

        L      = 1/B sum_B [max(z, 0) - t z + log1p(exp(-|z|))]     "B->"
        dL/dz  = (sigmoid(z) - t) / B
    """

    task = "binary"
    vector_logits = True
    LOSS = "B->"

    def __init__(self) -> None:
        self._p: Array | None = None
        self._t: Array | None = None
        self._shape: tuple[int, ...] = ()

    def compute(self, logits: Array, target: Array) -> float:
        z = logits.reshape(-1)
        t = target.reshape(-1).astype(z.dtype, copy=False)
        e = np.exp(-np.abs(z))
        per_sample = np.maximum(z, 0) - t * z + np.log1p(e)
        self._p = sigmoid(z, e)  # from the same e
        self._t, self._shape = t, logits.shape
        return float(einsum(self.LOSS, per_sample)) / z.shape[0]

    def backward(self) -> Array:
        if self._p is None or self._t is None:
            raise RuntimeError("SigmoidBinaryCrossEntropy.backward called before forward")
        grad = (self._p - self._t) / self._p.dtype.type(self._p.shape[0])
        return grad.reshape(self._shape)

    def check_target(self, target: Array, n_outputs: int, name: str = "target") -> None:
        """One logit per sample, and a target of 0/1 labels shaped ``(B,)`` or ``(B, 1)``."""
        if n_outputs != 1:
            raise ValueError(f"SigmoidBinaryCrossEntropy needs one logit per sample (model output "
                             f"(B,) or (B, 1)), but the model gives {n_outputs} outputs; end the "
                             f"model in Dense(..., 1), or use SoftmaxCrossEntropy for {n_outputs} classes")
        if not (target.ndim == 1 or (target.ndim == 2 and target.shape[1] == 1)):
            raise ValueError(f"SigmoidBinaryCrossEntropy: {name} must be 0/1 labels of shape (B,) "
                             f"or (B, 1), got shape {target.shape}")
        if target.dtype.kind not in "biuf":
            raise TypeError(f"SigmoidBinaryCrossEntropy: {name} must hold numbers 0/1, "
                            f"got dtype {target.dtype}")
        bad = (target != 0) & (target != 1)
        if bad.any():
            values = np.unique(target[bad])[:5].tolist()
            raise ValueError(f"SigmoidBinaryCrossEntropy: {name} must hold labels 0 and 1 only, "
                             f"got {values}; map other labels first, e.g. (y == positive_label)")


class MeanSquaredError(Loss):
    """Mean squared error over every output of the batch (PyTorch's ``MSELoss``).

    Shape: output ``(B, J)`` or ``(B,)``; target ``(B, J)``, or ``(B,)`` when ``J = 1``.
    Returns a float. With ``d = y - t`` and ``J`` outputs per sample::

        L      = 1/(B J) sum_{B,j} d[B,j]^2     "Bj,Bj->"
        dL/dy  = 2 d / (B J)
    """

    task = "regression"
    vector_logits = True
    LOSS = "Bj,Bj->"

    def __init__(self) -> None:
        self._diff: Array | None = None
        self._shape: tuple[int, ...] = ()

    def compute(self, logits: Array, target: Array) -> float:
        y = logits.reshape(logits.shape[0], -1)
        diff = y - target.reshape(y.shape).astype(y.dtype, copy=False)
        self._diff, self._shape = diff, logits.shape
        return float(einsum(self.LOSS, diff, diff)) / diff.size

    def backward(self) -> Array:
        if self._diff is None:
            raise RuntimeError("MeanSquaredError.backward called before forward")
        diff = self._diff
        return (diff * diff.dtype.type(2 / diff.size)).reshape(self._shape)

    def check_target(self, target: Array, n_outputs: int, name: str = "target") -> None:
        """Numbers shaped ``(B, n_outputs)``, or ``(B,)`` for one output."""
        if target.dtype.kind not in "biuf":
            raise TypeError(f"MeanSquaredError: {name} must hold numbers, got dtype {target.dtype}")
        if target.ndim == 1 and n_outputs == 1:
            return
        if target.ndim != 2 or target.shape[1] != n_outputs:
            hint = "; for one target per sample end the model in Dense(..., 1)" if target.ndim == 1 else ""
            raise ValueError(f"MeanSquaredError: {name} must have shape (B, {n_outputs}) to match "
                             f"the model's {n_outputs} outputs, got {target.shape}{hint}")


@lru_cache(maxsize=64)
def _rows(batch: int) -> Array:
    """``arange(batch)``, cached: it indexes each row's label column on every step."""
    rows = np.arange(batch)
    rows.flags.writeable = False
    return rows
