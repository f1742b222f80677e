"""Gradient checks and protocol checks for the core layers and the loss."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers.layer_checks import check_layer

import tinynet as tn


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Inputs whose entries are at least 0.1 from the ReLU kink."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.1, 0.1 + np.abs(x), x) * np.sign(x + 1e-12)


LAYERS = {
    "dense": lambda: tn.Dense(5, 3, rng=0),
    "dense-no-bias": lambda: tn.Dense(5, 3, bias=False, rng=0),
    "dense-uniform": lambda: tn.Dense(5, 3, init="uniform", rng=0),
    "leaky-relu": lambda: tn.LeakyReLU(0.01),
    "leaky-relu-steep": lambda: tn.LeakyReLU(3.0),
    "relu": lambda: tn.ReLU(),
    "sigmoid": lambda: tn.Sigmoid(),
    "tanh": lambda: tn.Tanh(),
    "identity": lambda: tn.Identity(),
    "softmax": lambda: tn.Softmax(),
    "sequential": lambda: tn.Sequential(tn.Dense(5, 4, rng=1), tn.LeakyReLU(0.1), tn.Dense(4, 2, rng=2)),
    "nested": lambda: tn.Sequential(tn.Sequential(tn.Dense(5, 4, rng=1), tn.Tanh()), tn.Dense(4, 3, rng=3)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradients(name):
    check_layer(LAYERS[name](), away_from_zero(np.random.default_rng(0), (6, 5)))


@pytest.mark.parametrize("labels", ["integer", "one-hot"])
def test_softmax_cross_entropy_gradcheck(labels):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((7, 4)) * 3
    y = rng.integers(0, 4, 7)
    target = y if labels == "integer" else tn.one_hot(y, 4)
    assert tn.gradcheck(tn.SoftmaxCrossEntropy(), logits, target) < 1e-7
    model = tn.Sequential(tn.Dense(4, 6, rng=1), tn.LeakyReLU(0.05), tn.Dense(6, 4, rng=2))
    assert tn.gradcheck(model, away_from_zero(rng, (7, 4)), target, loss=tn.SoftmaxCrossEntropy()) < 1e-7


def test_softmax_cross_entropy_value_matches_definition():
    rng = np.random.default_rng(3)
    logits, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(5), y]))
    loss = tn.SoftmaxCrossEntropy()
    assert loss.forward(logits, y) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(loss.backward(), (p - tn.one_hot(y, 3)) / 5, rtol=1e-12)


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


def test_float32_all_the_way():
    rng = np.random.default_rng(0)
    model = tn.Sequential(tn.Dense(4, 8, rng=1, dtype=np.float32), tn.LeakyReLU(),
                          tn.Dense(8, 3, rng=2, dtype=np.float32), )
    x, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64)
    loss = tn.SoftmaxCrossEntropy()
    out = model.forward(x)
    assert out.dtype == np.float32
    loss.forward(out, y)
    grad = loss.backward()
    assert grad.dtype == np.float32
    assert model.backward(grad).dtype == np.float32
    opt = tn.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    opt.step()
    for p in model.parameters():
        assert p.data.dtype == p.grad.dtype == np.float32
    assert all(s["momentum_buffer"].dtype == np.float32 for s in opt.state)
    history = tn.fit(model, loss, opt, tn.DataLoader(x, tn.one_hot(y, 3, np.float32), batch_size=16),
                     epochs=2, progress="none")
    assert len(history.loss) == 2
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    # every array a layer or the loss keeps between forward and backward is float32 too
    kept = [v for obj in [*model, loss] for v in vars(obj).values() if isinstance(v, np.ndarray)]
    kept += [p.grad for p in model.parameters()]
    assert len(kept) >= 8 and {a.dtype for a in kept if a.dtype.kind == "f"} == {np.dtype(np.float32)}


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
