"""Finite-difference gradient checks, public so users can check their own layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.types import Array
from tinynet.layers.base import LayerLike
from tinynet.layers.initializers import RngLike, as_generator
from tinynet.layers.state import Snapshot
from tinynet.losses import Loss

__all__ = ["gradcheck", "gradcheck_details"]



def gradcheck(
    layer: LayerLike | Loss,
    x: Any,
    target: Array | None = None,
    *,
    loss: Loss | None = None,
    eps: float = 1e-6,
    rng: RngLike = 0x5EED,
) -> float:
    """Max relative error between ``backward`` and central finite differences.

    Checks the input gradient and every parameter's ``.grad``. The scalar
    checked is ``loss(layer(x), target)`` when a loss is given, else
    ``sum(layer(x) * R)`` for a fixed random ``R``. Pass a loss itself as
    ``layer`` (with ``target``) to check it on logits ``x``. The relative error
    of each tensor is ``max|analytic - numeric| / max(max|analytic|, max|numeric|)``.

    Shape: ``x`` is any input the layer takes, e.g. ``(B, in)`` or ``(B, T, in)``, or a
    tuple or dict of arrays for a :class:`tinynet.Graph` with several inputs (each
    input's gradient is checked); ``target`` is what ``loss`` expects (e.g. ``(B,)``
    class indices); the result is one float. A layer used at several places of the
    model is checked as such: its gradient must be the sum over its uses.
    Integer inputs of a layer that takes them as they are (``integer_input``, e.g. a
    model that starts with an Embedding) are token ids: they are not perturbed and
    have no gradient to check.

    Use float64 and inputs away from kinks (e.g. not within ``eps`` of 0 for ReLU).
    A gradient that is exactly zero (a bias right before BatchNorm) has no scale
    to be relative to: its error reads as noise/noise, so check such layers alone.
    The layer runs with ``training=True``; make stochastic layers deterministic first.

    The layer is left as it was found: the many forward passes would move buffers
    such as BatchNorm's running statistics, and backward adds into each ``.grad``,
    so every parameter's ``data`` and ``grad`` and every buffer (see
    :func:`tinynet.layers.state.state_arrays`) is put back afterwards, even if the
    check raises, and the values the forward passes kept for backward are dropped.
    A Dropout layer's random generator is not restored.
    """
    return max(gradcheck_details(layer, x, target, loss=loss, eps=eps, rng=rng).values())


def gradcheck_details(
    layer: LayerLike | Loss,
    x: Any,
    target: Array | None = None,
    *,
    loss: Loss | None = None,
    eps: float = 1e-6,
    rng: RngLike = 0x5EED,
) -> dict[str, float]:
    """Like :func:`gradcheck`, but the relative error per tensor: ``{"input": ..,
    "0.weight": .., ...}`` (``"input[0]"``, ``"input[1]"`` or ``"input[name]"`` for
    several inputs)."""
    x = _copied(x, keep_integers=bool(getattr(layer, "integer_input", False)))
    if isinstance(layer, Loss):
        if target is None:
            raise ValueError("gradcheck of a loss needs target=")
        return {"input": _loss_error(layer, x, target, eps)}
    if loss is not None and target is None:
        raise ValueError("gradcheck with a loss needs target=")
    snapshot = Snapshot(layer, grads=True)
    try:
        return _layer_errors(layer, x, target, loss, eps, rng)
    finally:
        snapshot.restore()
        _forget_saved(layer)


def _copied(x: Any, keep_integers: bool = False) -> Any:
    """A float copy of the input (each input of a tuple or dict), perturbed in place later;
    integer inputs stay integers for a layer that takes them (token ids have no gradient)."""
    if isinstance(x, tuple):
        return tuple(_copied(a, keep_integers) for a in x)
    if isinstance(x, dict):
        return {k: _copied(a, keep_integers) for k, a in x.items()}
    kind = np.asarray(x).dtype.kind
    if keep_integers and kind in "iu":
        return np.array(x, copy=True)
    return np.array(x, dtype=np.float64 if kind != "f" else None, copy=True)


def _inputs(x: Any) -> list[tuple[str, Array]]:
    """The arrays of an input, named as the errors report them."""
    if isinstance(x, tuple):
        return [(f"input[{i}]", a) for i, a in enumerate(x)]
    if isinstance(x, dict):
        return [(f"input[{k}]", a) for k, a in x.items()]
    return [("input", x)]


def _forget_saved(layer: Any) -> None:
    clear = getattr(layer, "clear_saved", None)
    if callable(clear):
        clear()


def _loss_error(loss: Loss, logits: Array, target: Array, eps: float) -> float:
    """The relative error of ``loss.backward()``, the gradient for the logits."""

    def scalar() -> float:
        return loss.forward(logits, target)

    scalar()
    analytic = loss.backward().copy()
    return _relative_error(analytic, _numeric(scalar, logits, eps))


def _layer_errors(layer: LayerLike, x: Array, target: Array | None, loss: Loss | None, eps: float,
                  rng: RngLike) -> dict[str, float]:
    """The relative error of each input's gradient and of each parameter's ``.grad``."""
    probe = layer.forward(x, True)
    _forget_saved(layer)
    several = isinstance(probe, tuple)  # a Graph with several outputs: sum R_k * y_k over them
    generator = as_generator(rng)
    weights: Any = [generator.standard_normal(y.shape).astype(y.dtype) for y in probe] if several \
        else generator.standard_normal(np.shape(probe)).astype(np.asarray(probe).dtype)

    def value() -> float:
        out = layer.forward(x, True)
        if loss is not None:
            return loss.forward(out, target)  # type: ignore[arg-type]
        if several:
            return float(sum(np.sum(y * w) for y, w in zip(out, weights)))
        return float(np.sum(out * weights))

    def scalar() -> float:  # a forward that no backward follows: drop what it kept
        result = value()
        _forget_saved(layer)
        return result

    named = _named_parameters(layer)
    for _, param in named:
        param.zero_grad()
    value()
    grad_out: Any = loss.backward() if loss is not None else tuple(weights) if several else weights
    grad_x: Any = layer.backward(grad_out)
    inputs = _inputs(x)
    grads_x = [grad_x] if len(inputs) == 1 else list(grad_x)
    floats = [(name, a, g) for (name, a), g in zip(inputs, grads_x) if a.dtype.kind == "f"]  # ids: none
    analytic = {name: np.asarray(g).copy() for name, _, g in floats}
    analytic.update({name: p.grad.copy() for name, p in named})
    errors = {name: _relative_error(analytic[name], _numeric(scalar, a, eps)) for name, a, _ in floats}
    for name, p in named:
        errors[name] = _relative_error(analytic[name], _numeric(scalar, p.data, eps))
    return errors


def _named_parameters(layer: LayerLike) -> list[tuple[str, Any]]:
    named = getattr(layer, "named_parameters", None)
    if callable(named):
        return list(named())
    return [(p.name or str(i), p) for i, p in enumerate(layer.parameters())]


def _numeric(scalar: Any, array: Array, eps: float) -> Array:
    """Central differences of ``scalar()`` with respect to ``array``, perturbed in place."""
    grad = np.zeros_like(array, dtype=np.float64)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        up = scalar()
        flat[i] = saved - eps
        down = scalar()
        flat[i] = saved
        out[i] = (up - down) / (2 * eps)
    return grad


def _relative_error(analytic: Array, numeric: Array) -> float:
    scale = max(float(np.max(np.abs(analytic), initial=0.0)),
                float(np.max(np.abs(numeric), initial=0.0)))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(analytic - numeric))) / scale
