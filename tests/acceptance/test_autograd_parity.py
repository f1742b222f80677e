"""Gradients of the protocol v2 against PyTorch autograd (float64): N-D tensors, a layer used
twice, gradients that accumulate over two backward passes, and a graph with two inputs."""

from __future__ import annotations

import numpy as np
import pytest

import tinynet as tn

torch = pytest.importorskip("torch")
TOLERANCE = 1e-9


def relative_error(mine: np.ndarray, theirs: object) -> float:
    reference = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert np.shape(mine) == reference.shape, (np.shape(mine), reference.shape)
    return float(np.max(np.abs(mine - reference)) / max(np.max(np.abs(reference)), 1e-300))


def as_torch(array: np.ndarray) -> object:
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def test_dense_on_batch_time_features_matches_linear():
    rng = np.random.default_rng(0)
    layer = tn.Dense(5, 3, rng=1)
    x, g = rng.standard_normal((4, 7, 5)), rng.standard_normal((4, 7, 3))
    y = layer.forward(x)
    dx = layer.backward(g)
    xt, wt, bt = as_torch(x), as_torch(layer.weight.data), as_torch(layer.bias.data)
    yt = torch.nn.functional.linear(xt, wt, bt)
    yt.backward(torch.tensor(g))
    assert relative_error(y, yt) <= TOLERANCE
    assert relative_error(dx, xt.grad) <= TOLERANCE
    assert relative_error(layer.weight.grad, wt.grad) <= TOLERANCE
    assert relative_error(layer.bias.grad, bt.grad) <= TOLERANCE


@pytest.mark.parametrize("one_hot", [False, True])
def test_cross_entropy_over_positions_matches_pytorch(one_hot):
    rng = np.random.default_rng(1)
    logits, labels = rng.standard_normal((4, 6, 5)) * 3, rng.integers(0, 5, (4, 6))
    target = np.eye(5)[labels] if one_hot else labels
    loss = tn.SoftmaxCrossEntropy()
    value = loss.forward(logits, target)
    grad = loss.backward()
    zt = as_torch(logits)
    # PyTorch puts the classes on axis 1: (B, C, T) logits, (B, T) labels; mean over B T positions.
    reference = torch.nn.functional.cross_entropy(zt.permute(0, 2, 1), torch.tensor(labels))
    reference.backward()
    assert abs(value - reference.item()) <= TOLERANCE * abs(reference.item())
    assert relative_error(grad, zt.grad) <= TOLERANCE


def test_one_dense_used_twice_gets_the_sum_of_both_uses():
    rng = np.random.default_rng(2)
    shared = tn.Dense(4, 4, rng=3)
    model = tn.Sequential(shared, tn.Tanh(), shared)
    assert model.parameters() == [shared.weight, shared.bias]
    x, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    model.zero_grad()
    model.forward(x)
    dx = model.backward(g)
    xt, wt, bt = as_torch(x), as_torch(shared.weight.data), as_torch(shared.bias.data)
    yt = torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(xt, wt, bt)), wt, bt)
    yt.backward(torch.tensor(g))
    assert relative_error(dx, xt.grad) <= TOLERANCE
    assert relative_error(shared.weight.grad, wt.grad) <= TOLERANCE
    assert relative_error(shared.bias.grad, bt.grad) <= TOLERANCE


def test_two_backward_passes_without_zeroing_accumulate():
    rng = np.random.default_rng(3)
    model = tn.Sequential(tn.Dense(3, 6, rng=4), tn.ReLU(), tn.Dense(6, 2, rng=5))
    batches = [rng.standard_normal((8, 3)) for _ in range(2)]
    labels = [rng.integers(0, 2, 8) for _ in range(2)]
    loss = tn.SoftmaxCrossEntropy()
    model.zero_grad()
    for x, y in zip(batches, labels):
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
    params = [as_torch(p.data) for p in model.parameters()]
    w1, b1, w2, b2 = params
    for x, y in zip(batches, labels):
        hidden = torch.relu(torch.nn.functional.linear(torch.tensor(x), w1, b1))
        torch.nn.functional.cross_entropy(torch.nn.functional.linear(hidden, w2, b2),
                                          torch.tensor(y)).backward()  # PyTorch adds into .grad
    for mine, theirs in zip(model.parameters(), params):
        assert relative_error(mine.grad, theirs.grad) <= TOLERANCE
    once = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    loss.forward(model.forward(batches[0]), labels[0])
    model.backward(loss.backward())
    assert not np.allclose(once[0], model.parameters()[0].grad)  # the sum, not the last pass


def test_graph_with_two_inputs_an_add_and_an_einsum_of_two_activations():
    rng = np.random.default_rng(4)
    graph = tn.Graph(inputs=["a", "b"], nodes={
        "ha": (tn.Dense(4, 6, rng=6), "a"),         # branch 1: (B, T, 4) -> (B, T, 6)
        "hb": (tn.Dense(3, 6, rng=7), "b"),         # branch 2: (B, T, 3) -> (B, T, 6)
        "sum": (tn.Add(), ["ha", "hb"]),
        "act": (tn.Tanh(), "sum"),
        "scores": (tn.EinsumMerge("Bqd,Bkd->Bqk"), ["act", "hb"]),   # activation x activation
    }, output="scores")
    a, b = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    g = rng.standard_normal((2, 5, 5))
    graph.zero_grad()
    y = graph.forward((a, b))
    da, db = graph.backward(g)
    at, bt = as_torch(a), as_torch(b)
    (wa, ba), (wb, bb) = [(as_torch(graph.nodes[n][0].weight.data), as_torch(graph.nodes[n][0].bias.data))
                          for n in ("ha", "hb")]
    hb = torch.nn.functional.linear(bt, wb, bb)
    act = torch.tanh(torch.nn.functional.linear(at, wa, ba) + hb)
    yt = torch.einsum("bqd,bkd->bqk", act, hb)
    yt.backward(torch.tensor(g))
    assert relative_error(y, yt) <= TOLERANCE
    assert relative_error(da, at.grad) <= TOLERANCE
    assert relative_error(db, bt.grad) <= TOLERANCE
    for name, (w, bias) in (("ha", (wa, ba)), ("hb", (wb, bb))):
        dense = graph.nodes[name][0]
        assert relative_error(dense.weight.grad, w.grad) <= TOLERANCE
        assert relative_error(dense.bias.grad, bias.grad) <= TOLERANCE
    assert tn.gradcheck(graph, (a, b)) < 1e-7
