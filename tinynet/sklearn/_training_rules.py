"""scikit-learn MLP's training rules for the estimators: its stopping rule
(:class:`PlateauStop`) and its L2 penalty on the weights (:class:`L2Step`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from tinynet.training.monitor import MonitorCallback

__all__ = ["PlateauStop", "L2Step"]



class PlateauStop(MonitorCallback):
    """scikit-learn MLP's stopping rule: stop once ``monitor`` has gone ``patience`` epochs in a
    row without beating the best value so far by more than ``tol``. Unlike
    :class:`tinynet.EarlyStopping` (Keras's rule), the best value follows every gain, even one
    smaller than ``tol``, so a slow crawl stops too. With ``restore``, the best epoch's
    weights (and buffers) are put back at the end."""

    def __init__(self, monitor: str, tol: float, patience: int, restore: bool) -> None:
        super().__init__(monitor, "min", tol, restore, best_follows_any_gain=True, owner="PlateauStop")
        self.patience = patience
        self.wait = 0
        self.stopped = False  # whether the rule ended training (else the epoch budget did)

    def after_epoch(self, epoch: int, improved: bool) -> None:
        self.wait = 0 if improved else self.wait + 1
        if self.wait >= self.patience:
            self.run.stop_training = self.stopped = True


class L2Step:
    """Wrap an optimizer: before each step add ``alpha / n * W`` to each weight's gradient
    (not biases), the gradient of scikit-learn MLP's penalty ``alpha / (2 n) * ||W||^2`` for a
    batch of ``n`` rows (with sample weights, ``n`` is the batch's sum of weights, as
    scikit-learn's). ``batch_total()`` gives the current batch's ``n``. The gradient is changed
    in place, so it keeps its array and dtype."""

    def __init__(self, inner: Any, weights: list[Any], alpha: float,
                 batch_total: Callable[[], float]) -> None:
        self.inner, self.weights, self.alpha = inner, weights, alpha
        self._batch_total = batch_total

    @classmethod
    def cycling(cls, inner: Any, weights: list[Any], alpha: float, batch_sizes: list[int]) -> L2Step:
        """For unweighted batches: ``batch_sizes`` are the row counts of one epoch's batches in
        order (full batches, then the remainder); the steps cycle through them."""
        return cls(inner, weights, alpha, itertools.cycle(batch_sizes).__next__)

    @property
    def lr(self) -> float:
        return float(self.inner.lr)

    def step(self) -> None:
        total = self._batch_total()
        coef = self.alpha / total if total > 0 else 0.0
        for w in self.weights:
            w.grad += w.data.dtype.type(coef) * w.data
        self.inner.step()
