"""`evaluate`, and the checks ``fit`` shares with it: inputs cast to the model's dtype,
the model's output shape probed on one row, metrics by name, validation data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinynet.data.loader import DataLoader
from tinynet.engine.checks import check_choice, check_int
from tinynet.engine.types import Array
from tinynet.layers.base import LayerLike, check_layer
from tinynet.losses import Loss
from tinynet.training.metrics import METRICS

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
    loader = cast_inputs(model, DataLoader(x, y, batch_size=check_int(batch_size, "batch_size", minimum=1)))
    if isinstance(loss, Loss):
        loss.check_target(loader.y, probe_outputs(model, loader, "evaluate"), "y")
    compute = loss.compute if isinstance(loss, Loss) else loss.forward
    return evaluate_loader(model, compute, resolve_metrics(metrics, loss), loader)


def evaluate_loader(model: LayerLike, compute: Callable[[Array, Array], float],
                     fns: dict[str, Metric], loader: DataLoader) -> dict[str, float]:
    """Sample-weighted mean loss and metrics over a validated loader, in inference mode."""
    total, sums = 0.0, dict.fromkeys(fns, 0.0)
    for xb, yb in loader:
        output = model.forward(xb, False)
        total += compute(output, yb) * len(yb)
        for name, fn in fns.items():
            sums[name] += fn(output, yb)
    n = loader.n_samples
    return {"loss": total / n, **{k: v / n for k, v in sums.items()}}


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
            resolved[m] = METRICS[check_choice(m, "metrics", METRICS)]
        elif callable(m):
            resolved[getattr(m, "__name__", f"metric_{len(resolved)}")] = m
        else:
            raise TypeError(f"metrics entries must be names {sorted(METRICS)} or callables, got {m!r}")
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
    return cast_inputs(model, val)
