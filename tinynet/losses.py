"""Losses: ``forward(logits, target) -> float`` (the mean over the batch and
every position) and ``backward() -> dL/dlogits``, each fused with its output
activation for a stable, cheap gradient.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from tinynet.engine.contraction import Plans, einsum
from tinynet.engine.stable_functions import shifted_exp, sigmoid
from tinynet.engine.types import Array

__all__ = ["Loss", "SoftmaxCrossEntropy", "SigmoidBinaryCrossEntropy", "MeanSquaredError"]


class Loss:
    """Base class: ``forward`` validates its inputs, then calls ``compute``.

    Shape: logits ``(B, ...)`` and a target of ``B`` rows ``-> float``;
    ``backward() -> dL/dlogits``, the logits' shape.

    Subclasses implement ``compute(logits, target) -> float`` (keeping what
    ``backward`` needs), ``backward() -> dL/dlogits`` and ``check_target``.
    The training loop validates the whole target once with ``check_target``
    and then calls ``compute`` per batch, so validation costs nothing per step.
    ``task`` tells it which default metric fits: ``"multiclass"``,
    ``"binary"`` or ``"regression"``.
    """

    task = "regression"
    vector_logits = False  # whether 1-D logits (B,) are accepted

    def forward(self, logits: Array, target: Array) -> float:
        """Mean loss of the batch. Shape: logits ``(B, ...)``; target as the subclass says."""
        _check_logits(self, logits)
        if logits.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}: the batch is empty (logits of shape {logits.shape}); "
                             f"a loss is a mean over at least one row")
        target = np.asarray(target)
        if target.ndim == 0 or target.shape[0] != logits.shape[0]:
            raise ValueError(f"{type(self).__name__}: target has shape {target.shape} but logits "
                             f"have {logits.shape}; both need the same number of rows")
        self.check_target(target, logits.shape[1:])
        return self.compute(logits, target)

    def compute(self, logits: Array, target: Array) -> float:
        """``forward`` without validation (the training loop validated already)."""
        raise NotImplementedError

    def backward(self) -> Array:
        raise NotImplementedError

    def compute_weighted(self, logits: Array, target: Array, sample_weight: Array | None) -> float:
        """The batch's loss with one weight per sample: ``sum_n s_n l_n / sum_n s_n``
        (scikit-learn's ``sample_weight``; a sample's positions or values share its
        weight). Shape: ``sample_weight (B,)``, non-negative. A batch whose weights are
        all zero gives 0 and a zero gradient. Not validated (``fit`` checked everything);
        :meth:`backward_weighted` gives its gradient; ``weight_total`` keeps the batch's
        ``sum_n s_n`` (what a penalty scaled per batch, such as scikit-learn's L2, divides by)."""
        raise NotImplementedError(f"{type(self).__name__} does not take sample weights")

    def backward_weighted(self) -> Array:
        """``dL/dlogits`` of the last :meth:`compute_weighted`, the logits' shape."""
        raise NotImplementedError(f"{type(self).__name__} does not take sample weights")

    def config(self) -> dict[str, Any]:
        """The constructor's arguments as plain JSON values: ``type(loss)(**loss.config())``
        rebuilds it (what a model file stores next to the loss's name)."""
        return {}

    def __call__(self, logits: Array, target: Array) -> float:
        return self.forward(logits, target)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    def check_target(self, target: Array, output_shape: tuple[int, ...], name: str = "target") -> None:
        """Raise ``ValueError`` unless ``target`` (``B`` rows) fits logits whose rows are
        shaped ``output_shape`` (the logits' shape without the batch axis)."""

    def _saved(self) -> tuple[Any, ...]:
        saved: tuple[Any, ...] | None = getattr(self, "_state", None)
        if saved is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return saved


def _check_logits(loss: Loss, logits: Array) -> None:
    least = 1 if loss.vector_logits else 2
    if not isinstance(logits, np.ndarray) or logits.ndim < least:
        shape = getattr(logits, "shape", type(logits).__name__)
        what = "(batch, ...)" if loss.vector_logits else "(batch, ..., classes)"
        raise ValueError(f"{type(loss).__name__}: logits must be an array {what}, got {shape}")


def _same_rows(target: Array, output_shape: tuple[int, ...]) -> bool:
    """Whether a target row matches an output row, ``()`` and ``(1,)`` counting as equal."""
    row = target.shape[1:]
    return row == output_shape or (row in ((), (1,)) and output_shape in ((), (1,)))


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
        self.weight = None if weight is None else _checked_weights(weight, "SoftmaxCrossEntropy weight",
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
        sample = _row_weights(sample_weight, logits.shape[0], z.shape[0], z.dtype)
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
        exp, sums, at_label, scale, shape = _weighted_state(self)
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
            at_label: Array = _row_starts(z.shape) + t.astype(np.intp, copy=False)  # t_N, flat
            self._state: tuple[Any, ...] = (exp, sums, at_label, labels, logits.shape)
            picked = shifted.reshape(-1).take(at_label)
            return float(np.add.reduce(np.log(sums) - picked)) / n
        self._state = (exp, sums, t, labels, logits.shape)
        log_p = shifted - np.log(sums)[:, None]
        return -float(einsum(self.LOSS, t.astype(log_p.dtype, copy=False), log_p)) / n

    def backward(self) -> Array:
        exp, sums, t, labels, shape = self._saved()
        n = exp.shape[0]
        if labels:  # t: the flat positions of the labels (see compute)
            grad = exp / (sums * n)[:, None]
            grad.reshape(-1)[t] -= exp.dtype.type(1 / n)
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
        self.pos_weight = None if pos_weight is None else _checked_weights(
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
        scale, self.weight_total = _scale(sample_weight, logits.shape[0], z)
        self._weighted_state: tuple[Any, ...] = (scale * slope, logits.shape)
        return float(scale @ per_value) if scale.ndim else float(per_value.sum() * scale)

    def backward_weighted(self) -> Array:
        grad, shape = _weighted_state(self)
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
        if not _same_rows(target, output_shape):
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
        scale, self.weight_total = _scale(sample_weight, logits.shape[0], y)
        self._weighted_state: tuple[Any, ...] = (2 * scale * diff, logits.shape)
        return float((scale * diff) @ diff)

    def backward_weighted(self) -> Array:
        grad, shape = _weighted_state(self)
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
        if not _same_rows(target, output_shape):
            shape = ", ".join(map(str, output_shape))
            hint = ("; for one target per sample end the model in Dense(..., 1)"
                    if target.ndim == 1 else "")
            raise ValueError(f"MeanSquaredError: {name} must have shape (B{', ' if shape else ''}{shape}) "
                             f"to match the model's outputs, got {target.shape}{hint}")


def _checked_weights(weight: Any, name: str, ndim: int | None) -> Array:
    """Weights as a float64 array: finite, non-negative, ``ndim``-D (any of 0-D or 1-D if ``None``)."""
    try:
        array = np.array(weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers, got {weight!r}"[:200]) from None
    if (ndim is not None and array.ndim != ndim) or array.ndim > 1 or array.size == 0:
        what = "one number per class, shape (C,)" if ndim == 1 else "a number or one per output column"
        raise ValueError(f"{name} must be {what}, got shape {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"{name} must be finite and >= 0, got {array.tolist()}"[:200])
    array.flags.writeable = False
    return array


def _row_weights(sample_weight: Array | None, batch: int, n: int, dtype: Any) -> Array | None:
    """Each of the ``n`` rows' (positions' or values') weight: its sample's, in ``dtype``."""
    if sample_weight is None:
        return None
    weights = sample_weight.astype(dtype, copy=False)
    return weights if n == batch else np.repeat(weights, n // batch)


def _scale(sample_weight: Array | None, batch: int, values: Array) -> tuple[Array, float]:
    """The factor of each value in a weighted mean, ``s_n / sum s`` (0 when all weights are 0),
    or the 0-D ``1/N`` without weights; and the samples' total weight. Shape: ``(N,)`` or ``()``."""
    if sample_weight is None:
        return values.dtype.type(1 / values.shape[0]), float(batch)
    rows = np.repeat(sample_weight.astype(values.dtype, copy=False), values.shape[0] // batch)
    total = rows.sum()
    return (rows / total if total > 0 else np.zeros_like(rows)), float(sample_weight.sum())


def _weighted_state(loss: Loss) -> tuple[Any, ...]:
    state: tuple[Any, ...] | None = getattr(loss, "_weighted_state", None)
    if state is None:
        raise RuntimeError(f"{type(loss).__name__}.backward called before forward")
    return state


@lru_cache(maxsize=64)
def _row_starts(shape: tuple[int, int]) -> Array:
    """Where each row of an ``(N, C)`` array starts once flattened, ``arange(N) * C``;
    cached: it locates each row's label on every step."""
    starts = np.arange(shape[0], dtype=np.intp) * shape[1]
    starts.flags.writeable = False
    return starts
