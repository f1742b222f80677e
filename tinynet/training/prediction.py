"""`predict` and `predict_proba` for a model trained with a tinynet loss: batched, in
inference mode, with the loss's output activation applied."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.data.loader import DataLoader
from tinynet.engine.checks import check_int
from tinynet.engine.stable_functions import sigmoid, softmax
from tinynet.engine.types import Array
from tinynet.layers.base import LayerLike, check_layer
from tinynet.losses import Loss
from tinynet.training.evaluation import cast_inputs

__all__ = ["predict", "predict_proba"]


def predict(model: LayerLike, x: Any, *, loss: Loss | None = None, batch_size: int = 4096) -> Array:
    """The model's predictions for ``x``, in batches of ``batch_size`` rows, in inference mode
    (``training=False``: dropout off, batch norm's running statistics).

    Shape: ``x (N, ...)`` (a tuple or dict of arrays for a model with several inputs).
    Without ``loss``, or with a regression loss, the model's outputs ``(N, ...)``. With the
    classification loss it was trained with, labels: for ``SoftmaxCrossEntropy`` the arg-max
    class ``(N, ...)`` (integers, the logits' shape without the class axis); for
    ``SigmoidBinaryCrossEntropy`` 0/1 where the logit is positive, the logits' shape.
    """
    outputs = _outputs(model, x, loss, batch_size, "predict")
    task = getattr(loss, "task", "regression")
    if task == "multiclass":
        return outputs.argmax(axis=-1)
    if task == "binary":
        return (outputs > 0).astype(np.int64)
    return outputs


def predict_proba(model: LayerLike, x: Any, *, loss: Loss | None = None, batch_size: int = 4096) -> Array:
    """Class probabilities for ``x`` from a model that ends in logits (its loss applies the
    activation), batched and in inference mode as :func:`predict`.

    Shape: ``x (N, ...)``. Logits ``(N, ..., C)`` with ``C > 1`` give softmax probabilities
    (each row sums to 1); one logit per sample, ``(N,)`` or ``(N, 1)``, gives the sigmoid, the
    probability of class 1, in the same shape. ``loss`` (optional) must be a classification
    loss and then decides: softmax for ``SoftmaxCrossEntropy``, sigmoid for
    ``SigmoidBinaryCrossEntropy`` (any number of independent 0/1 outputs).
    """
    task = getattr(loss, "task", None)
    if loss is not None and task not in ("multiclass", "binary"):
        raise ValueError(f"predict_proba loss must be a classification loss (SoftmaxCrossEntropy or "
                         f"SigmoidBinaryCrossEntropy), got {type(loss).__name__}")
    outputs = _outputs(model, x, loss, batch_size, "predict_proba")
    several = outputs.ndim >= 2 and outputs.shape[-1] > 1
    if task == "multiclass" or (task is None and several):
        return softmax(outputs)
    return sigmoid(outputs)


def _outputs(model: LayerLike, x: Any, loss: Any, batch_size: Any, where: str) -> Array:
    """The model's outputs for every row of ``x``, concatenated; ``(N, ...)``."""
    check_layer(model, f"{where} model")
    if loss is not None and not isinstance(loss, Loss):
        raise TypeError(f"{where} loss must be a tinynet loss such as SoftmaxCrossEntropy() (or None), "
                        f"got {type(loss).__name__}")
    size = check_int(batch_size, f"{where} batch_size", minimum=1)
    rows = _row_count(x, where)
    try:
        loader = DataLoader(x, np.zeros(rows, dtype=np.int8), batch_size=size)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{where}: {str(err).removeprefix('DataLoader ')}") from None
    loader = cast_inputs(model, loader)
    batches = []
    for xb, _ in loader:
        out = model.forward(xb, False)
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{where}: the model must give one array, got {type(out).__name__}")
        batches.append(out)
    return batches[0] if len(batches) == 1 else np.concatenate(batches)


def _row_count(x: Any, where: str) -> int:
    first = next(iter(x.values()), None) if isinstance(x, dict) else x[0] if isinstance(x, tuple) and x else x
    shape = np.shape(first) if first is not None else ()
    if not shape:
        raise ValueError(f"{where} x must be an array of rows (N, ...) (or a tuple or dict of them), "
                         f"got {type(x).__name__} with shape {shape}")
    return int(shape[0])
