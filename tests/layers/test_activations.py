"""The activations: gradients, integer input, Softmax's backward through the engine, docstrings."""

import numpy as np
import pytest
from helpers.layer_checks import away_from_zero, check_layer

import tinynet as tn

LAYERS = {
    "leaky-relu": lambda: tn.LeakyReLU(0.01),
    "leaky-relu-steep": lambda: tn.LeakyReLU(3.0),
    "relu": lambda: tn.ReLU(),
    "sigmoid": lambda: tn.Sigmoid(),
    "tanh": lambda: tn.Tanh(),
    "identity": lambda: tn.Identity(),
    "softmax": lambda: tn.Softmax(),
    "gelu": lambda: tn.GELU(),
    "gelu-tanh": lambda: tn.GELU("tanh"),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradients(name):
    check_layer(LAYERS[name](), away_from_zero(np.random.default_rng(0), (6, 5)))


def test_sigmoid_layer_on_integer_input_gives_probabilities_not_truncated_integers():
    y = tn.Sigmoid().forward(np.array([[0, 2]]))
    np.testing.assert_allclose(y, [[0.5, 1 / (1 + np.exp(-2))]], rtol=1e-15)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4), (5,)])
def test_softmax_backward_uses_row_dot_through_the_engine(shape, monkeypatch):
    from tinynet.layers.core import activations

    specs = []

    def spy(spec, *operands, out=None):
        specs.append(spec)
        return tn.einsum(spec, *operands, out=out)

    monkeypatch.setattr(activations, "einsum", spy, raising=False)
    monkeypatch.setattr(np, "einsum", None)  # an inline np.einsum would fail now
    x = np.random.default_rng(0).standard_normal(shape)
    layer = tn.Softmax()
    p = layer.forward(x)
    g = np.random.default_rng(1).standard_normal(shape)
    dx = layer.backward(g)
    monkeypatch.undo()
    assert specs == [tn.Softmax.ROW_DOT] and dx.shape == shape
    np.testing.assert_allclose(dx, p * (g - (g * p).sum(axis=-1, keepdims=True)), rtol=1e-12, atol=1e-15)
    assert tn.gradcheck(tn.Softmax(), x) < 1e-7


def test_activation_docstrings_have_a_shape_line():
    documented = [tn.Identity, tn.ReLU, tn.LeakyReLU, tn.Sigmoid, tn.Tanh, tn.Softmax, tn.GELU]
    missing = [obj.__name__ for obj in documented if "Shape:" not in (obj.__doc__ or "")]
    assert not missing


def test_gelu_is_x_times_the_normal_cdf_and_its_tanh_form_is_close():
    from math import erf, sqrt

    x = np.linspace(-6, 6, 49)
    exact = np.array([v * 0.5 * (1 + erf(v / sqrt(2))) for v in x])
    np.testing.assert_allclose(tn.GELU()(x[None]), exact[None], rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(tn.GELU("tanh")(x[None]), exact[None], atol=1e-3)
    assert tn.GELU()(np.float32(x[None])).dtype == np.float32


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError, match="GELU approximate must be one of \\['none', 'tanh'\\], got 'fast'"):
        tn.GELU("fast")
