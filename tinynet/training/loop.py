"""The training loop: `fit` (and `TrainingDiverged`, from :mod:`tinynet.training.divergence`).

``fit`` is the only place that knows the model, the loss, the optimizer, the
loader and the callbacks; it validates everything once, then runs the epochs
through :class:`~tinynet.training.steps.TrainingSteps`, whose hot loop does no
per-batch validation.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tinynet.data.loader import DataLoader
from tinynet.engine.checks import check_choice, check_int
from tinynet.layers.base import LayerLike, check_layer
from tinynet.losses import Loss
from tinynet.optim.clipping import clipped_step
from tinynet.training.callbacks import PROGRESS_MODES, Callback, CallbackList, History, Run, display_callbacks
from tinynet.training.divergence import TrainingDiverged, explosion_limit
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
from tinynet.training.interrupts import deferred_interrupt
from tinynet.training.sample_weights import check_sample_weight, with_sample_weight
from tinynet.training.steps import TrainingSteps

__all__ = ["fit", "TrainingDiverged"]


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
    steps = TrainingSteps(model, loss, optimizer, metric_fns, listeners, history, loader)
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
