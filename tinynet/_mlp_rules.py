"""scikit-learn MLP's training rules for the estimators: its stopping rule
(:class:`PlateauStop`) and its L2 penalty on the weights (:class:`L2Step`)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet.callbacks import Callback, Run
from tinynet.early_stopping import model_state

__all__ = ["PlateauStop", "L2Step"]

Array = NDArray[Any]


class PlateauStop(Callback):
    """scikit-learn MLP's stopping rule: stop once ``monitor`` has gone ``patience`` epochs in a
    row without beating the best value so far by more than ``tol``. Unlike
    :class:`tinynet.EarlyStopping` (Keras's rule), the best value follows every gain, even one
    smaller than ``tol``, so a slow crawl stops too. With ``restore``, the best epoch's
    weights (and buffers) are put back at the end."""

    def __init__(self, monitor: str, tol: float, patience: int, restore: bool) -> None:
        self.monitor, self.tol, self.patience, self.restore = monitor, tol, patience, restore
        self.best, self.wait = np.inf, 0
        self.best_state: list[Array] | None = None

    def on_train_begin(self, run: Run) -> None:
        self.run = run

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        value = logs[self.monitor]
        self.wait = self.wait + 1 if value > self.best - self.tol else 0
        if value < self.best:
            self.best = value
            if self.restore:
                self.best_state = [a.copy() for a in model_state(self.run.model)]
        if self.wait >= self.patience:
            self.run.stop_training = True

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.best_state is not None:
            for array, best in zip(model_state(self.run.model), self.best_state):
                array[...] = best


class L2Step:
    """Wrap an optimizer: before each step add ``alpha / n * W`` to each weight's gradient
    (not biases), the gradient of scikit-learn MLP's penalty ``alpha / (2 n) * ||W||^2`` for a
    batch of ``n`` rows. ``batch_sizes`` are the row counts of one epoch's batches in order (full
    batches, then the remainder); the steps cycle through them. The gradient is changed in
    place, so it keeps its array and dtype."""

    def __init__(self, inner: Any, weights: list[Any], alpha: float, batch_sizes: list[int]) -> None:
        self.inner, self.weights, self.alpha = inner, weights, alpha
        self._sizes = itertools.cycle(batch_sizes)

    @property
    def lr(self) -> float:
        return float(self.inner.lr)

    def step(self) -> None:
        coef = self.alpha / next(self._sizes)
        for w in self.weights:
            w.grad += w.data.dtype.type(coef) * w.data
        self.inner.step()
