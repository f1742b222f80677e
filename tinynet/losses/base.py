"""The loss protocol: ``forward(logits, target) -> float`` validates, ``compute`` runs,
``backward() -> dL/dlogits``; and the checks every loss shares."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.types import Array

__all__ = ["Loss", "same_rows"]


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


def same_rows(target: Array, output_shape: tuple[int, ...]) -> bool:
    """Whether a target row matches an output row, ``()`` and ``(1,)`` counting as equal."""
    row = target.shape[1:]
    return row == output_shape or (row in ((), (1,)) and output_shape in ((), (1,)))
