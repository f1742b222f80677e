"""The training loop: `fit` and `TrainingDiverged`.

``fit`` is the only place that knows the model, the loss, the optimizer, the
loader and the callbacks; it validates everything once, then runs a hot loop
that does no per-batch validation.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from math import isfinite
from typing import Any

import numpy as np

from tinynet.data.loader import DataLoader
from tinynet.engine.checks import check_choice, check_int
from tinynet.engine.types import Array
from tinynet.layers.base import LayerLike, check_layer
from tinynet.layers.parameter import zero_grads
from tinynet.losses import Loss
from tinynet.optim.clipping import clipped_step
from tinynet.training.callbacks import PROGRESS_MODES, Callback, CallbackList, History, Run, display_callbacks
from tinynet.training.divergence import ParameterGuard, divergence_advice, explosion_limit
from tinynet.training.evaluation import (
    Metric,
    cast_inputs,
    check_final_activation,
    check_metric_values,
    check_optimizer_holds,
    check_outputs_for_loss,
    check_validation,
    evaluate_loader,
    probe_outputs,
    resolve_metrics,
)
from tinynet.training.interrupts import Interrupt, deferred_interrupt
from tinynet.training.metrics import epoch_values, reset_epoch_metrics
from tinynet.training.sample_weights import check_sample_weight, with_sample_weight

__all__ = ["fit", "TrainingDiverged"]


class TrainingDiverged(RuntimeError):
    """A batch's loss became NaN or inf (or, after the last update, a parameter did); the
    step was not applied.

    ``history`` holds the epochs completed before it; ``epoch`` and ``batch``
    say where it happened. If an earlier update had already turned parameters into
    NaN or inf, they were put back to their values at the start of epoch
    ``restored_epoch`` (else it is ``None`` and the parameters are the last update's).
    The optimizer's own state (momentum, moments) is not rolled back.
    """

    def __init__(self, epoch: int, batch: int, value: float, lr: float | None,
                 history: History, restored_epoch: int | None = None, *, advice: str = "",
                 start: float | None = None) -> None:
        hint = f" (lr={lr:g})" if lr is not None else ""
        if start is not None:  # finite, but exploding: caught at the end of an epoch
            what = f"the loss grew from {start:.3g} to {value:.3g} by the end of epoch {epoch}"
        else:
            what = (f"the loss became {value}" if isfinite(value) or value == value else
                    "the loss or the parameters became nan") + f" at epoch {epoch}, batch {batch}"
        done = ("the update was not applied" if restored_epoch is None and start is None else
                f"the parameters were restored to their values at the start of epoch {restored_epoch}"
                if start is not None else
                f"an update had made parameters NaN or inf, so they were restored to their values "
                f"at the start of epoch {restored_epoch}")
        advice = advice or f"Try a smaller learning rate{hint} or standardize the inputs."
        super().__init__(f"training diverged: {what}; {done}. {advice}")
        self.epoch, self.batch, self.value, self.history = epoch, batch, value, history
        self.restored_epoch = restored_epoch
        self.advice = advice


def fit(
    model: LayerLike,
    loss: Loss,
    optimizer: Any,
    loader: DataLoader,
    epochs: int,
    *,
    progress: str = "auto",
    callbacks: Iterable[Callback] = (),
    metrics: Sequence[str | Metric] | str = "auto",
    validation_data: tuple[Any, Any] | None = None,
    on_interrupt: str = "stop",
    clip_grad_norm: float | None = None,
    clip_grad_value: float | None = None,
    sample_weight: Any = None,
) -> History:
    """Train ``model`` in place for ``epochs`` passes over ``loader``; return the `History`.

    Each step: the gradients cleared (``zero_grad``), forward, ``loss``, backward
    (the data's own gradient is skipped), ``optimizer.step()``. Calling ``fit``
    again continues from the current weights. A model with several inputs (a
    :class:`tinynet.Graph`) takes a loader over a tuple or dict of arrays.

    ``metrics``: names from ``tinynet.training.metrics.METRICS`` (``"f1"``, ``"precision"``,
    ``"recall"``, ``"roc_auc"`` accumulate over the epoch), callables returning a batch
    *sum*, or :class:`~tinynet.training.epoch_metrics.EpochMetric` objects; ``"auto"`` is
    accuracy for classification losses.
    ``validation_data=(x, y)`` is evaluated after each epoch (``val_loss``, ``val_*``).
    ``progress``: ``"auto"``, ``"bar"``, ``"epoch"`` or ``"none"``.
    ``on_interrupt``: on Ctrl-C, ``"stop"`` finishes the current batch, sets
    ``history.interrupted`` and returns; ``"raise"`` re-raises ``KeyboardInterrupt``
    after the same clean-up. An update is never half applied.
    ``clip_grad_norm=max_norm`` / ``clip_grad_value=v``: clip the gradients before each
    update, as ``tn.clip_grad_norm`` / ``tn.clip_grad_value`` (PyTorch's ``clip_grad_norm_`` /
    ``clip_grad_value_``) would between backward and step; at most one of the two.
    """
    epochs, callbacks = _checked_arguments(model, loss, optimizer, loader, epochs, progress, on_interrupt,
                                           callbacks)
    loader = cast_inputs(model, loader)  # once here, not every batch in forward
    output_shape = probe_outputs(model, loader, "fit")
    check_outputs_for_loss(output_shape, loss)
    if isinstance(loss, Loss):
        loss.check_target(loader.y, output_shape, "y")
    metric_fns = resolve_metrics(metrics, loss)
    check_metric_values(metric_fns, model, loader)
    validation = check_validation(validation_data, model, loader, loss, output_shape)
    weights = None if sample_weight is None else check_sample_weight(sample_weight, loader, loss)

    history = History()
    log_names = ["loss", *metric_fns]
    if validation is not None:
        log_names += [f"val_{name}" for name in log_names]
    run = Run(model, loss, optimizer, epochs, len(loader), history, list(metric_fns), log_names)
    listeners = CallbackList([*callbacks, *display_callbacks(progress)])  # (fit keeps the history)
    steps = _Steps(model, loss, optimizer, metric_fns, listeners, history, loader)
    steps.step = clipped_step(optimizer.step, steps.params, clip_grad_norm, clip_grad_value)
    run_epoch = steps.epoch
    if weights is not None:  # chosen once: the unweighted steps stay as they are
        weighted, steps.split_weight = with_sample_weight(loader, weights)
        loader = cast_inputs(model, weighted)
        run_epoch = steps.weighted_epoch
    started = time.perf_counter()
    try:
        listeners.train_begin(run)
        # Overflow shows up as a non-finite loss, which raises TrainingDiverged with advice;
        # numpy's RuntimeWarnings on the way there would only bury that message.
        with deferred_interrupt() as interrupt, np.errstate(over="ignore", invalid="ignore"):
            # (An epoch of the article's run is 3 small steps: what runs once per epoch here
            # costs as much as a step's own Python, so hooks nobody has are not called.)
            epoch_begin = listeners.epoch_begin if listeners.has_epoch_begin else None
            epoch_end = listeners.epoch_end if listeners.has_epoch_end else None
            for epoch in range(1, epochs + 1):
                if epoch_begin is not None:
                    epoch_begin(epoch)
                logs = run_epoch(epoch, loader, interrupt)
                if logs is None:
                    history.interrupted = True
                    break
                if epoch == 1:  # the first batch's loss sets the limit
                    explode_above = explosion_limit(history.batch_loss)
                if logs["loss"] > explode_above:
                    raise steps.exploded(epoch, len(loader), logs["loss"])
                if validation is not None:
                    val = evaluate_loader(model, steps.compute, metric_fns, validation)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                history.on_epoch_end(epoch, logs)  # before the callbacks, which may read it
                if epoch_end is not None:
                    epoch_end(epoch, logs)
                if run.stop_training:
                    break
            if epochs and steps.guard.broken():  # the last update broke what no later loss shows
                raise steps.diverged(epoch, len(loader), float("nan"))
    finally:
        clear_saved = getattr(model, "clear_saved", None)
        if callable(clear_saved):  # a step cut short leaves forward values no backward will take
            clear_saved()
        history.seconds = time.perf_counter() - started
        listeners.train_end({"history": history, "seconds": history.seconds})
    if history.interrupted and on_interrupt == "raise":
        raise KeyboardInterrupt
    return history


class _Steps:
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


def _checked_arguments(model: Any, loss: Any, optimizer: Any, loader: Any, epochs: Any, progress: Any,
                       on_interrupt: Any, callbacks: Iterable[Any]) -> tuple[int, list[Callback]]:
    """Raise ``TypeError``/``ValueError`` naming the first bad argument of ``fit``; return
    ``epochs`` as an int and the callbacks as a list."""
    check_layer(model, "fit model")
    if not callable(getattr(loss, "backward", None)) or not callable(getattr(loss, "forward", None)):
        raise TypeError(f"fit loss must be a tinynet loss such as SoftmaxCrossEntropy(), "
                        f"got {type(loss).__name__}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"fit optimizer must have a step() method, e.g. tinynet.SGD(model."
                        f"parameters(), lr=0.01), got {type(optimizer).__name__}")
    if not isinstance(loader, DataLoader):
        raise TypeError(f"fit loader must be a tinynet.DataLoader, got {type(loader).__name__}")
    check_optimizer_holds(optimizer, model)
    check_final_activation(model, loss)
    epochs = check_int(epochs, "epochs", minimum=0)
    check_choice(progress, "progress", PROGRESS_MODES)
    check_choice(on_interrupt, "on_interrupt", ("stop", "raise"))
    listed = list(callbacks)
    for index, cb in enumerate(listed):
        if not isinstance(cb, Callback):
            raise TypeError(f"fit callbacks[{index}] must be a tinynet Callback, "
                            f"got {type(cb).__name__}")
    return epochs, listed
