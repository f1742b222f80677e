"""Sequential: gradients of stacks, the container protocol, chained sizes, append."""

import numpy as np
import pytest
from helpers.layer_checks import away_from_zero, check_layer
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn

LAYERS = {
    "sequential": lambda: tn.Sequential(tn.Dense(5, 4, rng=1), tn.LeakyReLU(0.1), tn.Dense(4, 2, rng=2)),
    "nested": lambda: tn.Sequential(tn.Sequential(tn.Dense(5, 4, rng=1), tn.Tanh()), tn.Dense(4, 3, rng=3)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradients(name):
    check_layer(LAYERS[name](), away_from_zero(np.random.default_rng(0), (6, 5)))


def test_sequential_container_protocol():
    model = tn.Sequential(tn.Dense(4, 10, rng=0), tn.LeakyReLU(0.01), tn.Dense(10, 3, rng=0))
    assert len(model) == 3 and isinstance(model[0], tn.Dense)
    assert isinstance(model[1:], tn.Sequential) and len(model[1:]) == 2
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(model.parameters()) == 4 and list(model)[2] is model[2]
    text = repr(model)
    assert "(0): Dense(in_features=4, out_features=10, bias=True)" in text
    assert "(1): LeakyReLU(alpha=0.01)" in text
    outer = tn.Sequential(model, tn.Softmax())
    assert [n for n, _ in outer.named_parameters()][0] == "0.0.weight"
    assert outer.output_shape((None, 4)) == (None, 3)
    x = np.ones((2, 4))
    np.testing.assert_allclose(model(x), model.forward(x, training=False))


def test_backward_skips_the_data_gradient_on_request():
    model = tn.Sequential(tn.Dense(4, 3, rng=0), tn.Tanh())
    model.forward(np.ones((2, 4)))
    assert model.backward(np.ones((2, 3)), need_input_grad=False) is None
    assert model[0].weight.grad.any()


ACTIVATIONS = [lambda: tn.LeakyReLU(0.1), tn.Tanh, tn.Sigmoid, tn.Identity, tn.Softmax]


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4), batch=st.integers(1, 4),
       picks=st.lists(st.integers(0, len(ACTIVATIONS) - 1), min_size=3, max_size=3),
       seed=st.integers(0, 2**16))
def test_gradcheck_random_sequentials(sizes, batch, picks, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers += [tn.Dense(n_in, n_out, rng=rng), ACTIVATIONS[picks[k]]()]
    model = tn.Sequential(*layers)
    x = away_from_zero(rng, (batch, sizes[0]))
    assert tn.gradcheck(model, x) < 1e-6


def test_sequential_sizes_must_chain_and_layers_must_be_layers():
    with pytest.raises(ValueError, match=r"layer 2 .*\(batch, 8\).*\(None, 10\)"):
        tn.Sequential(tn.Dense(4, 10), tn.ReLU(), tn.Dense(8, 3))
    with pytest.raises(TypeError, match="layer 1 must be a layer"):
        tn.Sequential(tn.Dense(4, 10), "relu")
    with pytest.raises(TypeError, match=r"write ReLU\(\.\.\.\)"):
        tn.Sequential(tn.Dense(4, 10), tn.ReLU)


def test_sequential_append_shares_a_layer_it_holds_but_refuses_itself():
    d = tn.Dense(3, 3, rng=0)
    model = tn.Sequential(d, tn.Tanh())
    model.append(d)  # tied weights: one parameter pair, used twice
    assert len(model) == 3 and len(model.parameters()) == 2
    with pytest.raises(ValueError, match="cannot contain itself"):
        model.append(model)
    with pytest.raises(ValueError, match="cannot contain itself"):
        model.append(tn.Residual(model))
    assert len(model) == 3
    model.append(tn.Dense(3, 2))
    assert len(model.parameters()) == 4
