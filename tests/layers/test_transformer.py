"""TransformerBlock and the position layers: gradients, residual structure, dropout, the
sequence-length limit, save/load, summary, and a transformer that learns to reverse."""

import numpy as np
import pytest
from helpers.errors import error_text
from helpers.layer_checks import check_layer, check_save_load_round_trip, check_skipping_the_input_grad

import tinynet as tn
from tinynet.display.layer_table import summary_rows, summary_text

X = np.random.default_rng(0).standard_normal((2, 4, 8))

BLOCKS = {
    "pre-norm": lambda: tn.TransformerBlock(8, 2, 16, rng=0),
    "post-norm": lambda: tn.TransformerBlock(8, 2, 16, norm_first=False, rng=0),
    "causal": lambda: tn.TransformerBlock(8, 4, 12, causal=True, rng=0),
}


def perturbed(layer: tn.Layer, seed: int = 1) -> tn.Layer:
    """Every parameter moved off its start (norms off ones/zeros, biases off zero)."""
    rng = np.random.default_rng(seed)
    for p in layer.parameters():
        p.data[...] += rng.standard_normal(p.shape) * 0.3
    return layer


@pytest.mark.parametrize("name", list(BLOCKS))
def test_block_gradients(name):
    check_layer(perturbed(BLOCKS[name]()), X)


def test_skipping_the_input_grad_keeps_the_parameter_gradients():
    check_skipping_the_input_grad(perturbed(BLOCKS["pre-norm"]()), X)


def test_block_parameters_have_pytorchs_names_in_pytorchs_order():
    names = [name for name, _ in tn.TransformerBlock(8, 2, 16).named_parameters()]
    assert names == ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                     "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                     "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]


def test_pre_norm_block_is_the_input_plus_two_residual_branches():
    block = perturbed(tn.TransformerBlock(8, 2, 16, rng=2))
    h = X + block.self_attn(block.norm1(X))
    expected = h + block.linear2(block.activation(block.linear1(block.norm2(h))))
    np.testing.assert_allclose(block(X), expected, rtol=1e-13, atol=1e-14)


def test_dropout_only_while_training_and_a_causal_block_ignores_later_positions():
    dropped, plain = tn.TransformerBlock(8, 2, 16, dropout=0.3, rng=3), tn.TransformerBlock(8, 2, 16, rng=3)
    np.testing.assert_array_equal(dropped(X), plain(X))
    assert not np.allclose(dropped.forward(X, True), plain(X))
    assert dropped.backward(np.ones_like(X)).shape == X.shape
    causal, changed = tn.TransformerBlock(8, 2, 16, causal=True, rng=4), X.copy()
    changed[:, 2:] -= 5
    np.testing.assert_array_equal(causal(X)[:, :2], causal(changed)[:, :2])


@pytest.mark.parametrize("steps", [3, 5])
def test_positional_embedding_gradients_for_shorter_and_full_sequences(steps):
    layer = tn.PositionalEmbedding(5, 8, rng=0)
    check_layer(layer, np.random.default_rng(1).standard_normal((2, steps, 8)))
    layer.zero_grad()
    layer.forward(np.zeros((2, steps, 8)))
    layer.backward(np.ones((2, steps, 8)))
    assert (layer.weight.grad[:steps] == 2).all() and not layer.weight.grad[steps:].any()


def test_sinusoidal_encoding_is_the_papers_table_and_passes_the_gradient():
    layer = tn.SinusoidalPositionalEncoding(6)
    table = layer(np.zeros((1, 7, 6)))[0]
    t, i = 5, 1
    assert table[t, 2 * i] == pytest.approx(np.sin(t / 10000 ** (2 * i / 6)), rel=1e-15)
    assert table[t, 2 * i + 1] == pytest.approx(np.cos(t / 10000 ** (2 * i / 6)), rel=1e-15)
    assert layer.parameters() == [] and tn.gradcheck(layer, X[..., :6]) < 1e-7
    assert layer(np.zeros((1, 3, 6), np.float32)).dtype == np.float32
    np.testing.assert_allclose(tn.SinusoidalPositionalEncoding(5)(np.zeros((1, 4, 5)))[0, :, 4],
                               np.sin(np.arange(4) / 10000 ** (4 / 5)), rtol=1e-15)  # an odd width


def test_sequences_longer_than_max_len_are_refused():
    with pytest.raises(ValueError) as err:
        tn.PositionalEmbedding(10, 8).forward(np.zeros((2, 12, 8)))
    text = error_text(err)
    assert "PositionalEmbedding(max_len=10, dim=8)" in text and "max_len=10" in text and "(2, 12, 8)" in text
    with pytest.raises(ValueError, match=r"\(batch, T, 8\), got \(2, 8\)"):
        tn.PositionalEmbedding(10, 8).forward(np.zeros((2, 8)))
    with pytest.raises(ValueError, match="summary: layer '1' cannot take input of shape"):
        summary_text(tn.Sequential(tn.Embedding(5, 8), tn.PositionalEmbedding(10, 8)), 12)


def reverser(seed: int = 0) -> tn.Sequential:
    rng = np.random.default_rng(seed)
    return tn.Sequential(tn.Embedding(10, 16, rng=rng), tn.PositionalEmbedding(6, 16, rng=rng),
                         tn.TransformerBlock(16, 2, 32, rng=rng), tn.Dense(16, 10, rng=rng))


def test_save_and_load_round_trip_and_summary(tmp_path):
    model = perturbed(reverser())
    check_save_load_round_trip(model, np.random.default_rng(2).integers(0, 10, (3, 6)), tmp_path)
    rows = summary_rows(model, 6)
    assert [(r.name, r.output_shape) for r in rows if "." not in r.name] == [
        ("0", "(B, 6, 16)"), ("1", "(B, 6, 16)"), ("2", "(B, 6, 16)"), ("3", "(B, 6, 10)")]
    block = next(r for r in rows if r.name == "2")
    assert block.layer == "TransformerBlock(embed_dim=16, num_heads=2, ff_dim=32)"
    assert block.params == sum(p.size for p in model[2].parameters()) == 16 * 48 + 48 + 272 + 544 + 528 + 64


def test_a_small_transformer_learns_to_reverse_sequences():
    """A shortened run of examples/transformer_reverse.py: attention must route each position's
    token to the mirrored position (a model without it cannot pass 1/10 per position)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, (1_200, 6))
    model = reverser()
    loader = tn.DataLoader(x, x[:, ::-1].copy(), batch_size=32, shuffle=True, rng=0)
    tn.fit(model, tn.SoftmaxCrossEntropy(), tn.Adam(model.parameters(), lr=1e-2), loader, 4, progress="none")
    held_out = rng.integers(0, 10, (500, 6))
    accuracy = tn.evaluate(model, tn.SoftmaxCrossEntropy(), held_out, held_out[:, ::-1].copy())["accuracy"]
    assert accuracy > 0.9


@pytest.mark.parametrize(("call", "words"), [
    (lambda: tn.TransformerBlock(10, 4, 16), ["embed_dim must be divisible by num_heads", "num_heads=4"]),
    (lambda: tn.TransformerBlock(8, 2, 16).forward(np.ones((2, 5, 6))), ["(batch, T, 8)", "(2, 5, 6)"]),
    (lambda: tn.TransformerBlock(8, 2, 0), ["ff_dim", ">= 1"]),
])
def test_bad_arguments_and_inputs(call, words):
    with pytest.raises(ValueError) as err:
        call()
    text = error_text(err)
    assert all(word in text for word in words), text


def test_sinusoidal_encoding_and_gelu_save_and_load(tmp_path):
    model = tn.Sequential(tn.Dense(3, 6, rng=0), tn.SinusoidalPositionalEncoding(6, base=100.0),
                          tn.GELU("tanh"), tn.TransformerBlock(6, 3, 8, norm_first=False, causal=True, rng=1))
    check_save_load_round_trip(model, np.random.default_rng(3).standard_normal((2, 5, 3)), tmp_path)
    loaded = tn.load(tmp_path / "model.npz")
    assert (loaded[1].base, loaded[2].approximate, loaded[3].causal, loaded[3].norm_first) == (
        100.0, "tanh", True, False)
