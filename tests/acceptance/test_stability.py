"""Numerical stability: extreme logits give finite losses and gradients (float64 and float32)."""

import numpy as np
import pytest

import tinynet as tn

EXTREMES = [(np.float64, 1e4), (np.float32, 80.0)]


@pytest.mark.parametrize("dtype,big", EXTREMES)
@pytest.mark.parametrize("labels", ["integer", "one-hot"])
def test_softmax_cross_entropy_extreme_logits(dtype, big, labels):
    logits = np.array([[big, -big, 0.0], [-big, -big, -big], [big, big, -big], [0, 0, big]], dtype)
    y = np.array([1, 0, 2, 2])
    target = y if labels == "integer" else tn.one_hot(y, 3, dtype)
    loss = tn.SoftmaxCrossEntropy()
    value = loss.forward(logits, target)
    grad = loss.backward()
    assert np.isfinite(value) and value > 0
    assert grad.dtype == dtype and np.isfinite(grad).all()
    # a confidently wrong row costs about 2 * big / B; nothing is clipped away
    assert value == pytest.approx((2 * big + np.log(3) + 2 * big + np.log(2) + 0) / 4, rel=1e-4)


@pytest.mark.parametrize("dtype,big", EXTREMES)
@pytest.mark.parametrize("layer", [tn.Sigmoid, tn.Tanh, tn.Softmax, tn.LeakyReLU, tn.ReLU])
def test_activations_extreme_inputs(dtype, big, layer):
    x = np.array([[-big, -1.0, 0.0, 1.0, big]], dtype)
    act = layer()
    y = act.forward(x)
    g = act.backward(np.ones_like(y))
    assert y.dtype == dtype and g.dtype == dtype
    assert np.isfinite(y).all() and np.isfinite(g).all()


def test_sigmoid_keeps_tiny_values():
    y = tn.Sigmoid().forward(np.array([[-700.0, -40.0, 40.0]]))
    assert 0 < y[0, 0] < 1e-300 and y[0, 1] == pytest.approx(np.exp(-40.0), rel=1e-12)
    assert y[0, 2] == 1.0
