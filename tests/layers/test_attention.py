"""MultiHeadAttention: gradients (self, causal, cross, masked), the finite masked softmax,
causality, dropout, cross-attention in a Graph, save/load, summary and errors."""

import numpy as np
import pytest
from helpers.errors import error_text
from helpers.layer_checks import check_layer, check_save_load_round_trip, check_skipping_the_input_grad

import tinynet as tn
from tinynet.display.layer_table import summary_rows
from tinynet.layers.sequence.attention import masked_softmax

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 5, 8))
CONTEXT = RNG.standard_normal((2, 3, 8))

LAYERS = {
    "self": lambda: tn.MultiHeadAttention(8, 2, rng=0),
    "causal": lambda: tn.MultiHeadAttention(8, 2, causal=True, rng=0),
    "no-bias": lambda: tn.MultiHeadAttention(8, 4, bias=False, rng=0),
    "one-head": lambda: tn.MultiHeadAttention(8, 1, init="he_normal", rng=0),
}


def with_biases(layer: tn.Layer) -> tn.Layer:
    """Non-zero biases, so that their gradients are checked against something."""
    rng = np.random.default_rng(5)
    for name, p in layer.named_parameters():
        if name.endswith("bias"):
            p.data[...] = rng.standard_normal(p.shape) * 0.5
    return layer


class Masked(tn.Layer):
    """Self-attention with a fixed key padding mask (a gradient check must not perturb the mask)."""

    def __init__(self, attention: tn.MultiHeadAttention, mask: np.ndarray) -> None:
        self.attention, self.mask = attention, mask

    def named_children(self):
        return [("attention", self.attention)]

    def forward(self, x, training=True):
        return self.attention.forward([x, x, self.mask], training)

    def backward(self, grad_y, need_input_grad=True):
        grad_query, grad_context, grad_mask = self.attention.backward(grad_y)
        assert grad_mask is None
        return grad_query + grad_context


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradients(name):
    check_layer(with_biases(LAYERS[name]()), X)


@pytest.mark.parametrize("name", ["self", "causal"])
def test_skipping_the_input_grad_keeps_the_parameter_gradients(name):
    check_skipping_the_input_grad(with_biases(LAYERS[name]()), X)


@pytest.mark.parametrize("causal", [False, True])
def test_cross_attention_gradients_of_both_inputs(causal):
    layer = with_biases(tn.MultiHeadAttention(8, 2, causal=causal, rng=1))
    details = tn.gradcheck_details(layer, (X, CONTEXT))
    assert set(details) == {"input[0]", "input[1]", "in_proj_weight", "in_proj_bias", "out_proj.weight",
                            "out_proj.bias"}
    assert max(details.values()) < 1e-7, details
    assert layer.forward([X, CONTEXT]).shape == X.shape


def test_key_padding_mask_gradients_and_a_fully_masked_row_stays_finite():
    mask = np.zeros((2, 5), bool)
    mask[0, 3:] = True   # the last two keys of sample 0 are padding
    mask[1, :] = True    # every key of sample 1 is padding: its rows attend to nothing
    layer = with_biases(tn.MultiHeadAttention(8, 2, rng=2))
    model = Masked(layer, mask)
    assert tn.gradcheck(model, X) < 1e-7
    y = model.forward(X)
    assert np.isfinite(y).all()
    # attending to nothing leaves out_proj's bias alone (p = 0, so o = 0)
    np.testing.assert_allclose(y[1], np.broadcast_to(layer.out_proj.bias.data, (5, 8)), rtol=1e-15)
    grad = model.backward(np.ones_like(y))
    assert np.isfinite(grad).all() and all(np.isfinite(p.grad).all() for p in layer.parameters())
    # padding keys change nothing: the same output as attention over the first three keys only
    short = layer.forward([X[:1], X[:1, :3]], False)
    np.testing.assert_allclose(y[:1], short, rtol=1e-12, atol=1e-14)
    as_numbers = layer.forward([X, X, mask.astype(float)], False)  # 1/0 floats, as fit gives them
    np.testing.assert_array_equal(as_numbers, model(X))


def test_masked_softmax_gives_zeros_for_a_fully_masked_row_and_sums_to_one_elsewhere():
    scores = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [-1e308, 5.0, 7.0]])
    masked = np.array([[False, False, True], [True, True, True], [False, False, False]])
    with np.errstate(invalid="raise", divide="raise", over="raise"):  # no 0/0, no inf - inf
        p = masked_softmax(scores.copy(), masked)
    np.testing.assert_allclose(p[0], [np.exp(-1) / (1 + np.exp(-1)), 1 / (1 + np.exp(-1)), 0], rtol=1e-15)
    assert p[1].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(p[2].sum(), 1, rtol=1e-15)


def test_causal_output_at_a_position_ignores_later_positions():
    layer = tn.MultiHeadAttention(8, 2, causal=True, rng=3)
    changed = X.copy()
    changed[:, 3:] += 10
    before, after = layer(X), layer(changed)
    np.testing.assert_array_equal(before[:, :3], after[:, :3])
    assert not np.allclose(before[:, 3:], after[:, 3:])
    assert not np.allclose(tn.MultiHeadAttention(8, 2, rng=3)(changed)[:, :3], before[:, :3])


def test_dropout_on_attention_weights_only_while_training():
    dropped = tn.MultiHeadAttention(8, 2, dropout=0.5, rng=4)
    plain = tn.MultiHeadAttention(8, 2, rng=4)
    np.testing.assert_array_equal(dropped(X), plain(X))  # inference: no dropout
    y = dropped.forward(X, True)
    assert not np.allclose(y, plain(X))
    grad = dropped.backward(np.ones_like(y))
    assert grad.shape == X.shape and np.isfinite(grad).all()
    with pytest.raises(ValueError, match="dropout must be a finite number >= 0 and < 1, got 1.0"):
        tn.MultiHeadAttention(8, 2, dropout=1.0)


def cross_graph(rng: int = 0) -> tn.Graph:
    return tn.Graph(inputs=["tokens", "memory"], nodes={
        "own": (tn.MultiHeadAttention(8, 2, causal=True, rng=rng), "tokens"),
        "cross": (tn.MultiHeadAttention(8, 4, rng=rng + 1), ["own", "memory"]),
        "out": (tn.Dense(8, 3, rng=rng + 2), "cross"),
    }, output="out")


def test_cross_attention_as_a_graph_node_with_two_inputs(tmp_path):
    graph = cross_graph()
    for layer, _ in graph.nodes.values():
        with_biases(layer)
    assert graph((X, CONTEXT)).shape == (2, 5, 3)
    assert tn.gradcheck(graph, (X, CONTEXT)) < 1e-7
    tn.save(graph, tmp_path / "graph.npz")
    loaded = tn.load(tmp_path / "graph.npz")
    np.testing.assert_array_equal(loaded((X, CONTEXT)), graph((X, CONTEXT)))
    rows = summary_rows(graph, [(5, 8), (3, 8)])
    shapes = {r.name: r.output_shape for r in rows}
    assert shapes["own"] == shapes["cross"] == "(B, 5, 8)" and shapes["out"] == "(B, 5, 3)"


def test_a_two_input_graph_trains_with_fit_on_a_dict_loader():
    rng = np.random.default_rng(6)
    tokens, memory = rng.standard_normal((64, 5, 8)), rng.standard_normal((64, 3, 8))
    labels = (memory[:, :1, :3].sum(-1) > 0).astype(int).repeat(5, axis=1)  # a fact of the memory
    graph = cross_graph(7)
    loader = tn.DataLoader({"tokens": tokens, "memory": memory}, labels, batch_size=16, shuffle=True, rng=0)
    history = tn.fit(graph, tn.SoftmaxCrossEntropy(), tn.Adam(graph.parameters(), lr=0.01), loader, 12,
                     progress="none")
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_parameters_have_pytorchs_names_and_layouts():
    layer = tn.MultiHeadAttention(8, 2)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [
        ("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)),
        ("out_proj.bias", (8,))]
    assert [n for n, _ in tn.MultiHeadAttention(8, 2, bias=False).named_parameters()] == [
        "in_proj_weight", "out_proj.weight"]
    assert (tn.MultiHeadAttention.SCORES, tn.MultiHeadAttention.MIX) == ("Bqhd,Bkhd->Bhqk", "Bhqk,Bkhd->Bqhd")


def test_save_and_load_round_trip(tmp_path):
    attention = with_biases(tn.MultiHeadAttention(8, 2, causal=True, rng=1, dtype=np.float32))
    model = tn.Sequential(tn.Dense(4, 8, rng=0, dtype=np.float32), attention)
    check_save_load_round_trip(model, X[..., :4], tmp_path)


def test_summary_row():
    rows = summary_rows(tn.Sequential(tn.MultiHeadAttention(8, 2), tn.Dense(8, 3)), (5, 8))
    assert (rows[0].layer, rows[0].output_shape, rows[0].params) == (
        "MultiHeadAttention(embed_dim=8, num_heads=2)", "(B, 5, 8)", 24 * 8 + 24 + 64 + 8)
    assert rows[1].name == "0.out_proj" and rows[1].params == 72


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: tn.MultiHeadAttention(10, 3), ValueError,
     ["embed_dim must be divisible by num_heads", "embed_dim=10", "num_heads=3"]),
    (lambda: tn.MultiHeadAttention(8, 2).forward(np.ones((2, 8))), ValueError,
     ["MultiHeadAttention(embed_dim=8, num_heads=2)", "(batch, T, 8)", "(2, 8)"]),
    (lambda: tn.MultiHeadAttention(8, 2).forward(np.ones((2, 5, 6))), ValueError,
     ["(batch, T, 8)", "(2, 5, 6)"]),
    (lambda: tn.MultiHeadAttention(8, 2).forward([X, CONTEXT[:1]]), ValueError,
     ["same batch size", "(2, 5, 8)", "(1, 3, 8)"]),
    (lambda: tn.MultiHeadAttention(8, 2).forward([X, CONTEXT, np.zeros((2, 5))]), ValueError,
     ["key_padding_mask", "(2, 3)", "(2, 5)"]),
    (lambda: tn.MultiHeadAttention(8, 2).forward([X, X, np.full((2, 5), 0.5)]), ValueError,
     ["key_padding_mask", "1/0"]),
    (lambda: tn.MultiHeadAttention(8, 2).forward([X] * 4), ValueError, ["a list of 4"]),
    (lambda: tn.MultiHeadAttention(8, 2, causal="yes"), TypeError, ["causal", "True or False"]),
])
def test_bad_inputs_name_the_layer_and_what_came(call, error, words):
    with pytest.raises(error) as err:
        call()
    text = error_text(err)
    assert all(word in text for word in words), text
