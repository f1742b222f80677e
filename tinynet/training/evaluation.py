"""`evaluate`, and the checks ``fit`` shares with it: inputs cast to the model's dtype,
the model's output shape probed on one row, metrics by name, validation data."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinynet.data.loader import DataLoader
from tinynet.engine.checks import check_choice, check_int
from tinynet.engine.types import Array
from tinynet.layers import Graph, Sequential, Sigmoid, Softmax
from tinynet.layers.base import LayerLike, check_layer
from tinynet.losses import Loss, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy
from tinynet.training.epoch_metrics import EpochMetric
from tinynet.training.metrics import METRICS, epoch_values, reset_epoch_metrics

__all__ = ["evaluate", "Metric"]

Metric = Callable[[Array, Array], float]


def evaluate(
    model: LayerLike,
    loss: Loss,
    x: Any,
    y: Any,
    *,
    metrics: Sequence[str | Metric] | str = "auto",
    batch_size: int = 4096,
) -> dict[str, float]:
    """Mean loss and metrics (accuracy for classification losses) of ``model`` on ``(x, y)``.

    Shape: ``x (N, ...)`` (a tuple or dict of arrays for a model with several
    inputs), ``y`` as the loss expects. Runs in inference mode
    (``training=False``) in batches of ``batch_size`` rows; returns
    ``{"loss": ..., "accuracy": ...}``, each averaged over every sample (and
    every position, for ``(B, T, C)`` outputs).
    """
    check_layer(model, "evaluate model")
    check_loss(loss, "evaluate")
    loader = cast_inputs(model, DataLoader(x, y, batch_size=check_int(batch_size, "batch_size", minimum=1)))
    if isinstance(loss, Loss):
        loss.check_target(loader.y, probe_outputs(model, loader, "evaluate"), "y")
    compute = loss.compute if isinstance(loss, Loss) else loss.forward
    fns = resolve_metrics(metrics, loss)
    check_metric_values(fns, model, loader)
    return evaluate_loader(model, compute, fns, loader)


def check_loss(loss: Any, where: str) -> None:
    """``TypeError`` unless ``loss`` has ``forward`` and ``backward`` (a tinynet loss)."""
    if not callable(getattr(loss, "backward", None)) or not callable(getattr(loss, "forward", None)):
        raise TypeError(f"{where} loss must be a tinynet loss such as SoftmaxCrossEntropy(), "
                        f"got {type(loss).__name__}")


def check_metric_values(fns: dict[str, Metric], model: LayerLike, loader: DataLoader) -> None:
    """Run each metric that is the user's own function once, on the first rows, before any
    step: it must return a number (the batch's sum), not fail later inside the loop."""
    own = {name: fn for name, fn in fns.items()
           if fn not in METRICS.values() and not isinstance(fn, EpochMetric)}
    if not own:
        return
    x = loader.x
    rows: Any = (tuple(a[:2] for a in x) if isinstance(x, tuple) else {k: a[:2] for k, a in x.items()}
                 if isinstance(x, dict) else x[:2])
    output = model.forward(rows, False)
    for name, fn in own.items():
        value = fn(output, loader.y[:2])
        number = isinstance(value, (int, float, np.integer, np.floating))
        if isinstance(value, (bool, np.bool_)) or not number:
            raise TypeError(f"metrics: {name!r} returned {type(value).__name__} {str(value)[:40]!r}; a "
                            f"metric returns the batch's sum as a number")


def check_final_activation(model: LayerLike, loss: Any) -> None:
    """Warn when ``model`` ends in the activation ``loss`` already applies (applied twice)."""
    last: Any = model
    while isinstance(last, (Sequential, Graph)):
        if isinstance(last, Sequential):
            last = last.layers[-1] if last.layers else None
        else:
            last = last.nodes[last.output][0] if isinstance(last.output, str) else None
    for activation, loss_class in ((Softmax, SoftmaxCrossEntropy), (Sigmoid, SigmoidBinaryCrossEntropy)):
        if isinstance(last, activation) and isinstance(loss, loss_class):
            warnings.warn(f"the model ends in {activation.__name__}, and {loss_class.__name__} applies "
                          f"{activation.__name__.lower()} itself, so it would be applied twice; remove the "
                          f"last {activation.__name__} (keep it only for predictions)", UserWarning,
                          stacklevel=3)


def check_outputs_for_loss(output_shape: tuple[int, ...], loss: Any) -> None:
    """``ValueError`` for a softmax over a single output: it is always 1, nothing can be learned."""
    if getattr(loss, "task", None) == "multiclass" and output_shape and output_shape[-1] == 1:
        raise ValueError(f"fit: the model gives 1 output per row, but {type(loss).__name__} needs one "
                         f"per class (at least 2): a softmax over one output is always 1 and nothing "
                         f"is learned; end the model in Dense(..., n_classes), or for two classes use "
                         f"one output with SigmoidBinaryCrossEntropy")


def check_optimizer_holds(optimizer: Any, model: LayerLike) -> None:
    """``ValueError`` when ``optimizer`` lists parameters and none is the model's: it was built
    for another model, and training would change nothing."""
    held = getattr(optimizer, "params", None)
    params = model.parameters()
    if not isinstance(held, list) or not held or not params:
        return
    mine = {id(p) for p in params}
    if not any(id(p) in mine for p in held):
        raise ValueError(f"fit optimizer holds none of the model's {len(params)} parameters (it was "
                         f"built for another model?), so training would change nothing; build it "
                         f"with the model's: {type(optimizer).__name__}(model.parameters(), ...)")


def evaluate_loader(model: LayerLike, compute: Callable[[Array, Array], float],
                     fns: dict[str, Metric], loader: DataLoader) -> dict[str, float]:
    """Sample-weighted mean loss and metrics over a validated loader, in inference mode."""
    total, sums = 0.0, dict.fromkeys(fns, 0.0)
    reset_epoch_metrics(fns)
    for xb, yb in loader:
        output = model.forward(xb, False)
        total += compute(output, yb) * len(yb)
        for name, fn in fns.items():
            sums[name] += fn(output, yb)
    n = loader.n_samples
    return {"loss": total / n, **epoch_values(fns, sums, n)}


def cast_inputs(model: LayerLike, loader: DataLoader) -> DataLoader:
    """The loader with its inputs in the model's dtype; integers stay integers when the
    model's first layer takes them (token ids)."""
    params = model.parameters()
    if not params:
        return loader
    dtype = params[0].data.dtype
    keep_integers = bool(getattr(model, "integer_input", False))
    if all(a.dtype == dtype or (keep_integers and a.dtype.kind in "iu") for a in loader.arrays):
        return loader
    return loader.cast(dtype, keep_integers=keep_integers)


def probe_outputs(model: LayerLike, loader: DataLoader, where: str) -> tuple[int, ...]:
    """Run one row through the model (inference mode) to learn its output's shape per
    sample; a feature-count mismatch surfaces here, before any training."""
    x = loader.x
    if isinstance(x, tuple):
        probe: Any = tuple(a[:1] for a in x)
    elif isinstance(x, dict):
        probe = {k: a[:1] for k, a in x.items()}
    else:
        probe = x[:1]
    out = model.forward(probe, False)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{where}: the model must give one array to train or evaluate with a loss, "
                        f"got {type(out).__name__} (a Graph with several outputs gives a tuple; "
                        f"train it with one output)")
    return tuple(int(n) for n in out.shape[1:])


def resolve_metrics(metrics: Sequence[str | Metric] | str, loss: Any) -> dict[str, Metric]:
    if isinstance(metrics, str):
        if metrics != "auto":
            metrics = [metrics]
        else:
            task = getattr(loss, "task", "regression")
            metrics = ["accuracy"] if task in ("multiclass", "binary") else []
    resolved: dict[str, Metric] = {}
    for m in metrics:
        if isinstance(m, str):
            found = METRICS[check_choice(m, "metrics", METRICS)]
            resolved[m] = found() if isinstance(found, type) else found  # an EpochMetric: a fresh one
        elif callable(m):
            resolved[getattr(m, "__name__", f"metric_{len(resolved)}")] = m
        else:
            raise TypeError(f"metrics entries must be names {sorted(METRICS)} or callables, got {m!r}")
    classification_only = [name for name, fn in resolved.items() if isinstance(fn, EpochMetric)]
    if classification_only and getattr(loss, "task", None) == "regression":
        raise ValueError(f"metrics {classification_only} need a classification loss (SoftmaxCrossEntropy or "
                         f"SigmoidBinaryCrossEntropy), got {type(loss).__name__}")
    return resolved


def check_validation(data: Any, model: LayerLike, loader: DataLoader, loss: Any,
                      output_shape: tuple[int, ...]) -> DataLoader | None:
    if data is None:
        return None
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError("validation_data must be a pair (x_val, y_val)")
    x, y = data
    if isinstance(loader.x, tuple) and isinstance(x, list):
        x = tuple(x)
    rows = [len(a) for a in (x.values() if isinstance(x, dict) else x if isinstance(x, tuple) else [x])
            if hasattr(a, "__len__")]
    if rows and hasattr(y, "__len__") and rows[0] != len(y):
        raise ValueError(f"validation_data: x has {rows[0]} rows but y has {len(y)} (shapes "
                         f"{np.shape(x) if not isinstance(x, (tuple, dict)) else '...'} and {np.shape(y)})")
    try:
        val = DataLoader(x, y, batch_size=4096)
    except (TypeError, ValueError) as err:
        raise type(err)(f"validation_data: {err}") from None
    if type(val.x) is not type(loader.x) or (isinstance(val.x, dict) and list(val.x) != list(loader.x)):
        raise ValueError("validation_data x must hold the same inputs as the training data (one array, "
                         "or a tuple or dict of arrays with the same names)")
    for mine, theirs in zip(val.arrays, loader.arrays):
        if mine.shape[1:] != theirs.shape[1:]:
            raise ValueError(f"validation_data x must have rows shaped like the training data "
                             f"{theirs.shape[1:]}, got {mine.shape[1:]}")
    if isinstance(loss, Loss):
        loss.check_target(val.y, output_shape, "validation_data y")
    try:
        return cast_inputs(model, val)
    except ValueError as err:  # a value too large for the model's dtype
        raise ValueError(f"validation_data: {err}") from None
