"""`TrainingSteps`: the step loops of one ``fit``, with everything a step needs bound once.

:func:`tinynet.training.loop.fit` checks its arguments, builds one of these and calls
:meth:`TrainingSteps.epoch` (or :meth:`TrainingSteps.weighted_epoch`) once per epoch; the
steps raise :class:`~tinynet.training.divergence.TrainingDiverged` when the loss does.
"""

from __future__ import annotations

from math import isfinite
from typing import Any

from tinynet.data.loader import DataLoader
from tinynet.engine.types import Array
from tinynet.layers.base import LayerLike
from tinynet.layers.parameter import zero_grads
from tinynet.losses import Loss
from tinynet.training.callbacks import CallbackList, History
from tinynet.training.divergence import ParameterGuard, TrainingDiverged, divergence_advice
from tinynet.training.evaluation import Metric
from tinynet.training.interrupts import Interrupt
from tinynet.training.metrics import epoch_values, reset_epoch_metrics

__all__ = ["TrainingSteps"]


class TrainingSteps:
    """The training steps of one ``fit``: everything a step needs, bound once."""

    def __init__(self, model: LayerLike, loss: Any, optimizer: Any, metric_fns: dict[str, Metric],
                 listeners: CallbackList, history: History, loader: DataLoader) -> None:
        self.model, self.loss, self.optimizer, self.loader = model, loss, optimizer, loader
        self.compute = loss.compute if isinstance(loss, Loss) else loss.forward
        self.params = model.parameters()
        self.step = optimizer.step  # fit replaces it by one that clips the gradients first, if asked
        self.metric_fns, self.listeners, self.history = metric_fns, listeners, history
        self.guard = ParameterGuard(self.params, optimizer, len(loader))
        self.split_weight: Any = None  # fit sets it for weighted_epoch (see sample_weights)
        self.batch_end = listeners.batch_end if listeners.has_batch_end else None
        self.sums: dict[str, float] = {}
        self.seen = 0  # the samples of the epoch's metrics so far
        # Called after each step only when there is something to do (a step is tens of µs)
        self.after_batch = self._after_batch if metric_fns or self.batch_end is not None else None

    def diverged(self, epoch: int, batch: int, value: float) -> TrainingDiverged:
        """The error for a non-finite ``value``, after putting back good parameters if
        an update broke them."""
        if batch > 1:  # the values this epoch started from gave a finite loss
            self.guard.trust()
        restored = self.guard.restore() if self.guard.broken() else None
        lr = getattr(self.optimizer, "lr", None)
        return TrainingDiverged(epoch, batch, value, lr, self.history, restored,
                                advice=divergence_advice(self.loader, self.loss, lr))

    def exploded(self, epoch: int, batch: int, value: float) -> TrainingDiverged:
        """The error for a finite loss that exploded during ``epoch``; the parameters go back
        to that epoch's start."""
        lr = getattr(self.optimizer, "lr", None)
        return TrainingDiverged(epoch, batch, value, lr, self.history, self.guard.restore(),
                                advice=divergence_advice(self.loader, self.loss, lr),
                                start=self.history.batch_loss[0])

    def epoch(self, epoch: int, loader: DataLoader, interrupt: Interrupt) -> dict[str, float] | None:
        """One pass over ``loader``: the epoch's logs, or ``None`` if Ctrl-C cut it short.

        Each step: clear the gradients, forward, loss, backward (the data's own
        gradient is not needed), update; then the metrics and the batch callbacks.
        """
        forward, backward, compute, loss_backward = (self.model.forward, self.model.backward,
                                                     self.compute, self.loss.backward)
        params, step, after_batch = self.params, self.step, self.after_batch
        record = self.history.batch_loss.append
        total, seen = 0.0, 0
        self.guard.begin_epoch(epoch)
        if self.metric_fns:
            self.reset_metrics()
        for batch, (xb, yb) in enumerate(loader, 1):
            zero_grads(params)
            output = forward(xb, True)
            value = compute(output, yb)
            if not isfinite(value):
                raise self.diverged(epoch, batch, value)
            backward(loss_backward(), False)
            step()
            record(value)
            size = len(yb)
            total += value * size
            seen += size
            if after_batch is not None:
                after_batch(batch, value, size, output, yb)
            if interrupt.requested:
                return None
        self.guard.trust()  # every loss of the epoch was finite
        return {"loss": total / seen} if not self.metric_fns else self.logs(total / seen)

    def weighted_epoch(self, epoch: int, loader: DataLoader, interrupt: Interrupt) -> dict[str, float] | None:
        """:meth:`epoch` with per-sample weights: ``loader``'s inputs carry them last
        (:func:`~tinynet.training.sample_weights.with_sample_weight`); the loss is each
        batch's weighted mean, the epoch's ``loss`` the weighted mean over the epoch."""
        model, loss, step, split_weight = self.model, self.loss, self.step, self.split_weight
        params, after_batch, record = self.params, self.after_batch, self.history.batch_loss.append
        total, weight_total = 0.0, 0.0
        self.guard.begin_epoch(epoch)
        if self.metric_fns:
            self.reset_metrics()
        for batch, (xw, yb) in enumerate(loader, 1):
            xb, wb = split_weight(xw)
            zero_grads(params)
            output = model.forward(xb, True)
            value = loss.compute_weighted(output, yb, wb)
            if not isfinite(value):
                raise self.diverged(epoch, batch, value)
            model.backward(loss.backward_weighted(), False)
            step()
            record(value)
            weight = float(wb.sum())
            total += value * weight
            weight_total += weight
            if after_batch is not None:
                after_batch(batch, value, len(yb), output, yb)
            if interrupt.requested:
                return None
        self.guard.trust()
        loss_value = total / weight_total if weight_total else 0.0
        return {"loss": loss_value} if not self.metric_fns else self.logs(loss_value)

    def reset_metrics(self) -> None:
        """Before an epoch's first step: forget the metrics' sums."""
        self.seen = 0
        self.sums = dict.fromkeys(self.metric_fns, 0.0)
        reset_epoch_metrics(self.metric_fns)

    def logs(self, loss: float) -> dict[str, float]:
        """After an epoch's last step: its loss and metrics."""
        return {"loss": loss, **epoch_values(self.metric_fns, self.sums, self.seen)}

    def _after_batch(self, batch: int, value: float, size: int, output: Array, target: Array) -> None:
        """After a step: add the batch's metrics, then call the batch callbacks."""
        if self.metric_fns:
            self.seen += size
            for name, fn in self.metric_fns.items():
                self.sums[name] += fn(output, target)
        if self.batch_end is not None:
            self.batch_end(batch, value, size)
