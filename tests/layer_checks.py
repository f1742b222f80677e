"""Shared test helper: every layer keeps the Layer protocol and its gradients are right."""

from __future__ import annotations

from typing import Any

import numpy as np

import tinynet as tn

TOLERANCE = 1e-7


def check_layer(layer: Any, x: np.ndarray, tolerance: float = TOLERANCE) -> float:
    """Gradcheck ``layer`` on ``x`` (float64) and check the protocol:
    ``.grad`` has the shape/dtype of ``.data``, and backward overwrites it
    (two identical backward calls leave the same gradient, not twice it)."""
    error = tn.gradcheck(layer, x)
    assert error < tolerance, f"{layer!r}: gradcheck relative error {error:.3g}"
    y = layer.forward(x, True)
    grad_y = np.random.default_rng(1).standard_normal(y.shape)
    grad_x = layer.backward(grad_y)
    assert grad_x.shape == x.shape and grad_x.dtype == x.dtype
    first = [p.grad.copy() for p in layer.parameters()]
    layer.backward(grad_y)
    for p, before in zip(layer.parameters(), first):
        assert p.grad.shape == p.data.shape and p.grad.dtype == p.data.dtype, p
        np.testing.assert_array_equal(p.grad, before, err_msg=f"{p.name}: backward must overwrite")
    return error
