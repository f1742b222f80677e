"""Dense: gradients, the textbook derivation, and the error for a wrong feature count."""

import numpy as np
import pytest
from helpers.errors import error_text
from helpers.layer_checks import away_from_zero, check_layer
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn

LAYERS = {
    "dense": lambda: tn.Dense(5, 3, rng=0),
    "dense-no-bias": lambda: tn.Dense(5, 3, bias=False, rng=0),
    "dense-uniform": lambda: tn.Dense(5, 3, init="uniform", rng=0),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradients(name):
    check_layer(LAYERS[name](), away_from_zero(np.random.default_rng(0), (6, 5)))


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4), batch=st.integers(1, 5),
       alpha=st.floats(0.0, 0.5), seed=st.integers(0, 2**16))
def test_random_dense_leaky_stacks_match_hand_derivation(sizes, batch, alpha, seed):
    """Parameter gradients of Dense/LeakyReLU stacks against the textbook derivation
    (transposes and all, no einsum), with grad_y the softmax-CE gradient."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers += [tn.Dense(n_in, n_out, rng=rng), tn.LeakyReLU(alpha)]
    model = tn.Sequential(*layers[:-1])
    x = rng.standard_normal((batch, sizes[0]))
    y = rng.integers(0, sizes[-1], batch)
    loss = tn.SoftmaxCrossEntropy()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    # hand derivation
    acts, pre = [x], []
    for layer in model:
        if isinstance(layer, tn.Dense):
            pre.append(acts[-1] @ layer.weight.data.T + layer.bias.data)
            acts.append(pre[-1])
        else:
            acts.append(np.where(acts[-1] > 0, acts[-1], alpha * acts[-1]))
    logits = acts[-1]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - np.eye(sizes[-1])[y]) / batch
    dense = [layer for layer in model if isinstance(layer, tn.Dense)]
    for k in range(len(dense) - 1, -1, -1):
        layer_input = x if k == 0 else np.where(pre[k - 1] > 0, pre[k - 1], alpha * pre[k - 1])
        np.testing.assert_allclose(dense[k].weight.grad, delta.T @ layer_input, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(dense[k].bias.grad, delta.sum(axis=0), rtol=1e-10, atol=1e-13)
        if k:
            delta = (delta @ dense[k].weight.data) * np.where(pre[k - 1] > 0, 1.0, alpha)


def test_dense_wrong_feature_count():
    with pytest.raises(ValueError) as err:
        tn.Dense(4, 10).forward(np.ones((32, 5)))
    text = error_text(err)
    assert "Dense(in_features=4" in text and "(batch, 4)" in text and "(32, 5)" in text
