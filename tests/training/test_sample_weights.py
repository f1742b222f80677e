"""fit(sample_weight=): scikit-learn's weighted mean per batch, rows and weights shuffled together."""

import numpy as np
import pytest
from helpers.runs import small_problem

import tinynet as tn


def train(x, y, epochs=4, batch_size=None, shuffle=False, **kwargs):
    _, _, model = small_problem()
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.3),
                     tn.DataLoader(x, y, batch_size=batch_size, shuffle=shuffle, rng=0), epochs,
                     progress="none", **kwargs)
    return model, history


def test_integer_weights_train_as_repeated_rows_and_unit_weights_as_none():
    x, y, _ = small_problem()
    weights = np.arange(len(y)) % 3
    weighted, history = train(x, y, sample_weight=weights)
    repeated, reference = train(np.repeat(x, weights, 0), np.repeat(y, weights))
    np.testing.assert_allclose(weighted.forward(x, False), repeated.forward(x, False), rtol=1e-10)
    np.testing.assert_allclose(history.loss, reference.loss, rtol=1e-10)
    plain, plain_history = train(x, y, batch_size=16, shuffle=True)
    ones, ones_history = train(x, y, batch_size=16, shuffle=True, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(ones.forward(x, False), plain.forward(x, False), rtol=1e-10)
    np.testing.assert_allclose(ones_history.loss, plain_history.loss, rtol=1e-12)


def test_shuffled_rows_keep_their_weights():
    """With weight 0 on every row of class 1, a shuffled run never learns from them: the
    gradient of each batch is the one of its class-0 rows only."""
    x, y, _ = small_problem()
    keep = y == 0
    weighted, _ = train(x, y, batch_size=8, shuffle=True, sample_weight=keep.astype(float), epochs=3)
    assert (weighted.forward(x, False).argmax(axis=1) == 0).mean() > 0.9


def test_several_inputs_carry_weights_too():
    x, y, _ = small_problem()
    nodes = {"ha": (tn.Dense(2, 2, rng=0), "a"), "hb": (tn.Dense(1, 2, rng=1), "b"),
             "s": (tn.Add(), ["ha", "hb"])}
    graph = tn.Graph(inputs=["a", "b"], nodes=nodes, output="s")
    loader = tn.DataLoader({"a": x[:, :2], "b": x[:, 2:]}, y, batch_size=32, shuffle=True, rng=0)
    history = tn.fit(graph, tn.SoftmaxCrossEntropy(), tn.SGD(graph.parameters(), lr=0.1), loader, 2,
                     progress="none", sample_weight=np.linspace(0, 1, len(y)))
    assert len(history.loss) == 2 and np.isfinite(history.loss).all()


@pytest.mark.parametrize("weights, error, words", [
    (np.ones(5), ValueError, r"sample_weight must have shape \(120,\)"),
    (-np.ones(120), ValueError, "finite and >= 0"),
    (np.full(120, np.nan), ValueError, "finite and >= 0"),
    (np.zeros(120), ValueError, "all zero"),
    ("heavy", TypeError, "sample_weight must be numbers"),
])
def test_bad_weights_are_refused_before_any_step(weights, error, words):
    x, y, model = small_problem()
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(error, match=words):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), tn.DataLoader(x, y), 1,
               progress="none", sample_weight=weights)
    assert all(np.array_equal(p.data, b) for p, b in zip(model.parameters(), before))
