"""Shared layer checks: the Layer protocol, gradients, skipping the input gradient, save/load
and config round trips."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import tinynet as tn
from tinynet.saving.layer_configs import describe, instantiate, parse, registry

TOLERANCE = 1e-7


def check_layer(layer: Any, x: np.ndarray, tolerance: float = TOLERANCE) -> float:
    """Gradcheck ``layer`` on ``x`` (float64) and check the protocol v2: ``.grad`` has the
    shape/dtype of ``.data``; two forward calls then two backward calls (last in, first
    out) *add* their gradients (a second identical pass doubles them), and a backward
    with no forward left to answer is an error. A layer with parameters is also rebuilt
    in float32 (see :func:`check_float32_grads`)."""
    error = tn.gradcheck(layer, x)
    assert error < tolerance, f"{layer!r}: gradcheck relative error {error:.3g}"
    layer.zero_grad()
    y = layer.forward(x, True)
    grad_y = np.random.default_rng(1).standard_normal(y.shape)
    grad_x = layer.backward(grad_y)
    assert grad_x.shape == x.shape and grad_x.dtype == x.dtype
    first = [p.grad.copy() for p in layer.parameters()]
    layer.forward(x, True)
    layer.forward(x, True)
    for _ in range(2):
        np.testing.assert_allclose(layer.backward(grad_y), grad_x, rtol=1e-12, atol=1e-14)
    for p, once in zip(layer.parameters(), first):
        assert p.grad.shape == p.data.shape and p.grad.dtype == p.data.dtype, p
        np.testing.assert_allclose(p.grad, 3 * once, rtol=1e-12, atol=1e-14,
                                   err_msg=f"{p.name}: backward must add into .grad")
    with pytest.raises(RuntimeError, match="backward called without a forward"):
        layer.backward(grad_y)
    if layer.parameters():
        check_float32_grads(layer, x, grad_y, first)
    return error


def float32_copy(layer: tn.Layer) -> tn.Layer:
    """``layer`` rebuilt from its config with ``dtype="float32"`` wherever a config has a
    dtype, and its parameters copied over (cast)."""

    def to_float32(node: Any) -> Any:
        if isinstance(node, dict):
            node = {key: to_float32(value) for key, value in node.items()}
            if isinstance(node.get("config"), dict) and "dtype" in node["config"]:
                node["config"]["dtype"] = "float32"
        elif isinstance(node, list):
            node = [to_float32(value) for value in node]
        return node

    known = registry({type(sub) for _, sub in layer.named_layers()})
    copy = instantiate(parse(to_float32(describe(layer)), known))
    for p, q in zip(layer.parameters(), copy.parameters()):
        q.data[...] = p.data
    return copy


def check_float32_grads(layer: tn.Layer, x: np.ndarray, grad_y: np.ndarray,
                        grads64: list[np.ndarray]) -> None:
    """The float32 twin of ``layer``, given a float64 upstream gradient, writes float32
    gradients into the same ``.grad`` arrays (no rebinding, no float64 leak), and
    they agree with the float64 gradients ``grads64`` to float32 precision."""
    twin = float32_copy(layer)
    params = twin.parameters()
    assert all(p.dtype == np.float32 for p in params), [p.dtype for p in params]
    buffers = [p.grad for p in params]
    twin.zero_grad()
    twin.forward(x.astype(np.float32), True)
    twin.backward(grad_y.astype(np.float64))
    for p, buffer, want in zip(params, buffers, grads64):
        assert p.grad is buffer, f"{twin!r}: backward replaced {p.name}.grad instead of writing into it"
        assert p.grad.dtype == np.float32, f"{twin!r}: {p.name}.grad became {p.grad.dtype}"
        scale = max(float(np.abs(want).max()), 1.0)
        np.testing.assert_allclose(p.grad, want, rtol=0, atol=1e-4 * scale, err_msg=p.name)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Inputs whose entries are at least 0.1 from the ReLU kink."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.1, 0.1 + np.abs(x), x) * np.sign(x + 1e-12)


def check_skipping_the_input_grad(layer: Any, x: np.ndarray) -> None:
    """``backward(..., need_input_grad=False)`` returns None and leaves the same parameter
    gradients as a full backward."""
    layer.zero_grad()
    y = layer.forward(x)
    grad_y = np.random.default_rng(1).standard_normal(y.shape)
    assert layer.backward(grad_y) is not None
    full = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    layer.forward(x)
    assert layer.backward(grad_y, need_input_grad=False) is None
    for p, want in zip(layer.parameters(), full):
        np.testing.assert_array_equal(p.grad, want)


def check_save_load_round_trip(model: Any, x: np.ndarray, directory: Any) -> None:
    """``tn.save`` then ``tn.load`` rebuilds the same class, repr, parameter names and outputs."""
    tn.save(model, directory / "model.npz")
    loaded = tn.load(directory / "model.npz")
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded(x), model(x))
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]


def rebuild_from_config(layer: Any) -> Any:
    """``cls(**get_config())``, a ``*args`` entry passed positionally (as tinynet.saving does)."""
    config = dict(layer.get_config())
    params = inspect.signature(type(layer)).parameters
    args = [config.pop(name) for name, p in params.items() if p.kind is p.VAR_POSITIONAL and name in config]
    return type(layer)(*(args[0] if args else ()), **config)
