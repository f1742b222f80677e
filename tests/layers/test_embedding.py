"""Embedding: the lookup, its scatter-add backward, ids through DataLoader and fit, save/load,
summary, and the ids it refuses."""

import numpy as np
import pytest
from helpers.errors import error_text
from helpers.layer_checks import check_save_load_round_trip

import tinynet as tn
from tinynet.display.layer_table import summary_rows

IDS = np.array([[1, 3, 3, 0], [7, 1, 3, 9]])


def test_forward_looks_the_rows_up():
    layer = tn.Embedding(10, 4, rng=0)
    y = layer(IDS)
    assert y.shape == (2, 4, 4)
    np.testing.assert_array_equal(y[1, 3], layer.weight.data[9])
    np.testing.assert_array_equal(layer(IDS[0]), layer.weight.data[IDS[0]])  # (B,) ids give (B, D)


def test_gradcheck_of_the_weight_with_repeated_ids():
    layer = tn.Embedding(10, 3, rng=0)
    details = tn.gradcheck_details(layer, IDS)
    assert list(details) == ["weight"]  # integer ids have no gradient to check
    assert details["weight"] < 1e-7
    model = tn.Sequential(tn.Embedding(10, 3, rng=1), tn.Tanh(), tn.Dense(3, 2, rng=2))
    assert tn.gradcheck(model, IDS) < 1e-7


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_backward_is_a_scatter_add_and_accumulates(dtype):
    rng = np.random.default_rng(1)
    layer = tn.Embedding(10, 5, rng=0, dtype=dtype)
    g = rng.standard_normal((2, 4, 5)).astype(dtype)
    layer.zero_grad()
    y = layer.forward(IDS)
    assert layer.backward(g) is None  # ids get no gradient
    expected = np.zeros((10, 5))
    np.add.at(expected, IDS.ravel(), g.reshape(-1, 5))
    assert layer.weight.grad.dtype == y.dtype == dtype
    np.testing.assert_allclose(layer.weight.grad, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    layer.forward(IDS)
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    with pytest.raises(RuntimeError, match="backward called without a forward"):
        layer.backward(g)


def test_padding_row_starts_at_zero_and_gets_no_gradient():
    """PyTorch's semantics: the row is used by forward but never trained (so a gradient check
    of it would fail by design)."""
    layer = tn.Embedding(10, 3, padding_idx=-1, rng=0)
    assert layer.padding_idx == 9 and not layer.weight.data[9].any()
    layer.zero_grad()
    layer.forward(IDS)
    layer.backward(np.ones((2, 4, 3)))
    assert not layer.weight.grad[9].any() and layer.weight.grad[3].tolist() == [3.0, 3.0, 3.0]


def test_whole_number_floats_are_ids():
    layer = tn.Embedding(10, 4, rng=0)
    np.testing.assert_array_equal(layer(IDS.astype(np.float32)), layer(IDS))
    np.testing.assert_array_equal(layer(IDS.tolist()), layer(IDS))


@pytest.mark.parametrize(("ids", "error", "words"), [
    (np.array([[0.5, 1.0]]), TypeError, ["Embedding(10, 4)", "integer token ids", "not whole", "0.5"]),
    (np.array([[np.nan, 1.0]]), TypeError, ["Embedding(10, 4)", "not whole"]),
    (np.array([[True, False]]), TypeError, ["Embedding(10, 4)", "dtype bool", "(1, 2)"]),
    (np.array([[1, 10]]), ValueError, ["Embedding(10, 4)", "[0, 10)", "got 10", "(1, 2)"]),
    (np.array([[-1, 2]]), ValueError, ["Embedding(10, 4)", "[0, 10)", "got -1"]),
    (np.array(3), ValueError, ["Embedding(10, 4)", "scalar"]),
])
def test_bad_ids_are_refused_with_the_layer_and_what_came(ids, error, words):
    with pytest.raises(error) as err:
        tn.Embedding(10, 4).forward(ids)
    text = error_text(err)
    assert all(word in text for word in words), text


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_embeddings must be an integer >= 1, got 0"):
        tn.Embedding(0, 4)
    with pytest.raises(ValueError, match=r"padding_idx must be in \[-5, 5\), got 5"):
        tn.Embedding(5, 4, padding_idx=5)


def test_integer_ids_reach_the_embedding_through_the_loader_and_fit():
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 6, (240, 5))
    labels = ids % 3  # a label per position
    seen = []
    model = tn.Sequential(tn.Embedding(6, 8, rng=0), tn.Dense(8, 3, rng=1))
    forward = model[0].forward
    model[0].forward = lambda x, training=True: (seen.append(x.dtype), forward(x, training))[1]
    loader = tn.DataLoader(ids, labels, batch_size=32, shuffle=True, rng=0)
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.Adam(model.parameters(), lr=0.05), loader, 15,
                     progress="none")
    assert {dtype.kind for dtype in seen} == {"i"}  # never cast to floats
    assert history.history["accuracy"][-1] == 1.0
    result = tn.evaluate(model, tn.SoftmaxCrossEntropy(), ids.astype(float), labels)
    assert result["accuracy"] == 1.0  # whole-number floats work too


def test_save_and_load_round_trip(tmp_path):
    model = tn.Sequential(tn.Embedding(10, 4, padding_idx=0, rng=0, dtype=np.float32),
                          tn.Dense(4, 3, rng=1, dtype=np.float32))
    check_save_load_round_trip(model, IDS, tmp_path)
    assert tn.load(tmp_path / "model.npz")[0].padding_idx == 0


def test_summary_row():
    rows = summary_rows(tn.Sequential(tn.Embedding(10, 4), tn.Dense(4, 3)), 7)
    assert [(r.layer, r.output_shape, r.params) for r in rows] == [
        ("Embedding(10, 4)", "(B, 7, 4)", 40),
        ("Dense(in_features=4, out_features=3, bias=True)", "(B, 7, 3)", 15)]
