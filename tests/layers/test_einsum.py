"""tn.Einsum: backward derived from the spec, checked by finite differences."""

import numpy as np
import pytest
from helpers.layer_checks import check_layer
from helpers.memory import peak_allocation
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn
from tinynet.data.datasets import article_iris
from tinynet.layers.core.grad_specs import derive_grad_spec

# spec, weight_shape, bias_shape, input shape; each id says what it exercises.
SPECS = {
    "dense": ("Bi,oi->Bo", (3, 5), (3,), (6, 5)),
    "per-head": ("Bhi,hoi->Bho", (2, 3, 4), (3,), (5, 2, 4)),
    "input-index-summed-away": ("Bij,oi->Bo", (3, 4), (3,), (5, 4, 2)),
    "weight-index-summed-away": ("Bi,oij->Bo", (3, 4, 2), None, (5, 4)),
    "diagonal-scale": ("Bi,i->Bi", (4,), (4,), (5, 4)),
    "broadcast-over-time": ("Bti,oi->Bto", (3, 4), (3,), (2, 5, 4)),
    "outer-product": ("Bi,o->Bio", (3,), (4, 3), (5, 4)),
    "bias-over-input-index": ("Bhi,oi->Bho", (3, 4), (2, 3), (5, 2, 4)),
    "output-transposed": ("Bi,oi->oB", (3, 4), None, (5, 4)),
}


@pytest.mark.parametrize("name", list(SPECS))
def test_gradcheck_float64(name):
    spec, weight_shape, bias_shape, x_shape = SPECS[name]
    layer = tn.Einsum(spec, weight_shape, bias_shape, rng=1)
    x = np.random.default_rng(0).standard_normal(x_shape)
    assert check_layer(layer, x) < 1e-7


def test_derived_specs_of_dense_equal_dense_constants():
    layer = tn.Einsum("Bi,oi->Bo", (3, 4), (3,))
    # Dense writes its leading axes as an ellipsis: (B, in), (B, T, in), ...
    assert layer.grad_input_spec == tn.Dense.GRAD_INPUT.replace("...", "B") == "Bo,oi->Bi"
    assert layer.grad_weight_spec == tn.Dense.GRAD_WEIGHT.replace("...", "B") == "Bo,Bi->oi"
    assert layer.grad_bias_spec == tn.Dense.GRAD_BIAS.replace("...", "B") == "Bo->o"
    assert "grad_input='Bo,oi->Bi'" in repr(layer) and "grad_weight='Bo,Bi->oi'" in repr(layer)


def test_summed_away_and_broadcast_indices_in_the_derived_specs():
    summed = tn.Einsum("Bij,oi->Bo", (3, 4))
    assert summed.grad_input_spec == "Bo,oi->Bi"  # what runs; then j is broadcast back
    assert "grad_input='Bo,oi->Bi' broadcast along 'j'" in repr(summed)
    assert derive_grad_spec(summed.spec, 0).full_spec == "Bo,oi,j->Bij"  # as one einsum: ones operand
    assert summed.grad_weight_spec == "Bo,Bij->oi"  # B (batch) and j summed in the weight gradient
    heads = tn.Einsum("Bhi,hoi->Bho", (2, 3, 4), (3,))
    assert heads.grad_weight_spec == "Bho,Bhi->hoi" and heads.grad_bias_spec == "Bho->o"


@pytest.mark.parametrize("name", list(SPECS))
def test_shown_specs_are_exactly_the_gradients(name):
    """The specs shown are what runs: np.einsum of each (then the broadcast repr names) gives
    the layer's gradients, and so does the one-einsum form with a ones operand."""
    spec, weight_shape, bias_shape, x_shape = SPECS[name]
    layer = tn.Einsum(spec, weight_shape, bias_shape, rng=1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    y = layer.forward(x)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    for operand_index, shown, other, got in ((0, layer.grad_input_spec, layer.weight.data, dx),
                                             (1, layer.grad_weight_spec, x, layer.weight.grad)):
        assert f"{shown!r}" in repr(layer)
        term = layer.spec.split("->")[0].split(",")[operand_index]  # the operand's letters
        kept_letters = shown.split("->")[1]  # the others were summed away: broadcast back
        kept = np.einsum(shown, g, other).reshape(
            [n if c in kept_letters else 1 for c, n in zip(term, got.shape)])
        np.testing.assert_allclose(got, np.broadcast_to(kept, got.shape), rtol=1e-12, atol=1e-12)
        full = derive_grad_spec(layer.spec, operand_index).full_spec
        lhs, operand = full.split("->")
        ops = [g, other]
        if lhs.count(",") == 2:  # a ones operand over the summed-away indices
            ones_term = lhs.split(",")[2]
            ops.append(np.ones(tuple(got.shape[operand.index(c)] for c in ones_term)))
        np.testing.assert_allclose(got, np.einsum(full, *ops), rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_any_differentiable_spec_passes_gradcheck(data):
    """Random specs: random index sets for input, weight and output."""
    letters = "abcd"
    x_term = "B" + "".join(data.draw(st.lists(st.sampled_from(letters), unique=True, max_size=3)))
    w_term = "".join(data.draw(st.lists(st.sampled_from(letters), unique=True, min_size=1, max_size=3)))
    union = sorted(set(x_term + w_term))
    order = data.draw(st.permutations(union))
    out = "".join(order[: data.draw(st.integers(0, len(order)))])
    sizes = {c: data.draw(st.integers(1, 3)) for c in union}
    layer = tn.Einsum(f"{x_term},{w_term}->{out}", tuple(sizes[c] for c in w_term), rng=0)
    x = np.random.default_rng(1).standard_normal(tuple(sizes[c] for c in x_term))
    assert tn.gradcheck(layer, x) < 1e-7


def test_iris_run_matches_dense_exactly():
    data = article_iris()

    def train(make):
        rng = np.random.default_rng(42)
        model = tn.Sequential(make(4, 10, rng), tn.LeakyReLU(0.01), make(10, 3, rng))
        loader = tn.DataLoader(data.x_train, data.y_train, batch_size=32, last_batch="drop")
        history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.01),
                         loader, 1500, progress="none")
        return np.array(history.loss), model

    dense_loss, dense = train(lambda i, o, rng: tn.Dense(i, o, init="uniform", rng=rng))
    einsum_loss, layered = train(
        lambda i, o, rng: tn.Einsum("Bi,oi->Bo", (o, i), (o,), init="uniform", rng=rng))
    assert len(einsum_loss) == 1500
    np.testing.assert_allclose(einsum_loss, dense_loss, rtol=0, atol=1e-10)
    for a, b in zip(dense.parameters(), layered.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-10)


@pytest.mark.parametrize("spec, message", [
    ("Bi,oi", "explicit output"),
    ("Bi->Bi", "exactly two operands"),
    ("Bi,oi,oj->Bo", "exactly two operands"),
    ("...i,oi->...o", "ellipsis"),
    ("Bii,oi->Bo", "repeated"),
    ("Bi,oi->Boo", "repeated"),
    ("Bi,oi->Bk", "'k' is in no operand"),
    ("B1,oi->Bo", "not an index letter"),
    ("Bi,->Bi", "at least one index"),
])
def test_specs_it_cannot_differentiate_are_rejected(spec, message):
    with pytest.raises(ValueError, match=message):
        tn.Einsum(spec, (3, 4))


def test_weight_and_bias_shapes_are_checked_against_the_spec():
    with pytest.raises(ValueError, match="weight_shape needs 2 sizes"):
        tn.Einsum("Bi,oi->Bo", (3, 4, 5))
    with pytest.raises(ValueError, match="trailing output indices 'o'"):
        tn.Einsum("Bi,oi->Bo", (3, 4), bias_shape=(4,))
    with pytest.raises(ValueError, match="more axes"):
        tn.Einsum("Bi,oi->Bo", (3, 4), bias_shape=(2, 3, 3))
    with pytest.raises(ValueError, match=r"weight_shape\[1\] must be an integer >= 1"):
        tn.Einsum("Bi,oi->Bo", (3, 0))
    with pytest.raises(TypeError, match="spec must be a str"):
        tn.Einsum(42, (3, 4))  # type: ignore[arg-type]


def test_bad_input_names_the_expected_shape():
    layer = tn.Einsum("Bhi,hoi->Bho", (2, 3, 4))
    with pytest.raises(ValueError, match=r"expected input of shape \('B', 2, 4\).*\(5, 3, 4\)"):
        layer.forward(np.zeros((5, 3, 4)))
    with pytest.raises(ValueError, match="expected input"):
        layer.forward(np.zeros((5, 4)))
    with pytest.raises(TypeError, match="numpy array"):
        layer.forward([[1.0]])  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="backward called without a forward"):
        tn.Einsum("Bi,oi->Bo", (3, 4)).backward(np.zeros((2, 3)))


def test_output_shape_and_sequential_chain():
    layer = tn.Einsum("Bhi,hoi->Bho", (2, 3, 4))
    assert layer.output_shape((None, 2, 4)) == (None, 2, 3)
    with pytest.raises(ValueError, match="index 'i'"):
        layer.output_shape((None, 2, 5))
    model = tn.Sequential(tn.Dense(4, 6), tn.Einsum("Bi,oi->Bo", (3, 6)))
    assert model.output_shape((None, 4)) == (None, 3)
    with pytest.raises(ValueError, match="does not fit"):
        tn.Sequential(tn.Dense(4, 5), tn.Einsum("Bi,oi->Bo", (3, 6)))


def test_float32_stays_float32_and_need_input_grad_false_skips_dx():
    layer = tn.Einsum("Bij,oi->Bo", (3, 4), (3,), dtype=np.float32, rng=0)
    x = np.random.default_rng(0).standard_normal((5, 4, 2)).astype(np.float32)
    y = layer.forward(x)
    assert y.dtype == np.float32
    dx = layer.backward(np.ones_like(y))
    assert dx is not None and dx.dtype == np.float32 and dx.shape == x.shape
    assert layer.weight.grad.dtype == np.float32 and layer.bias is not None
    assert layer.bias.grad.dtype == np.float32
    weight_grad = layer.weight.grad.copy()
    layer.zero_grad()
    layer.forward(x)
    assert layer.backward(np.ones_like(y), need_input_grad=False) is None
    np.testing.assert_array_equal(layer.weight.grad, weight_grad)


def test_init_fans_and_uniform_scheme():
    uniform = tn.Einsum("Bi,oi->Bo", (10, 4), (10,), init="uniform", rng=np.random.default_rng(42))
    rng = np.random.default_rng(42)
    np.testing.assert_array_equal(uniform.weight.data, rng.random((10, 4)))
    assert uniform.bias is not None
    np.testing.assert_array_equal(uniform.bias.data, rng.random(10))
    he = tn.Einsum("Bhi,hoi->Bho", (4, 50, 200), (50,), rng=0)  # fan_in = i = 200
    assert he.weight.data.std() == pytest.approx(np.sqrt(2 / 200), rel=0.05)
    assert he.bias is not None and not he.bias.data.any()


def test_get_config_rebuilds_the_layer():
    layer = tn.Einsum("Bhi,hoi->Bho", (2, 3, 4), (3,), init="glorot_uniform", dtype="float32")
    config = layer.get_config()
    assert config == {"spec": "Bhi,hoi->Bho", "weight_shape": [2, 3, 4], "bias_shape": [3],
                      "init": "glorot_uniform", "dtype": "float32"}
    rebuilt = tn.Einsum(**config)
    assert [(n, p.shape, p.dtype) for n, p in rebuilt.named_parameters()] == \
        [(n, p.shape, p.dtype) for n, p in layer.named_parameters()]


def test_trains_with_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3, 4))  # 3 "heads" of 4 features
    labels = (x[:, 0, 0] + x[:, 2, 1] > 0).astype(int)
    model = tn.Sequential(tn.Einsum("Bhi,hoi->Bho", (3, 5, 4), (5,), rng=1), tn.Tanh(),
                          tn.Einsum("Bho,cho->Bc", (2, 3, 5), (2,), rng=2))
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1),
                     tn.DataLoader(x, labels, batch_size=20), 40, progress="none")
    assert history.loss[-1] < 0.3 * history.loss[0]
    assert history.accuracy[-1] > 0.9


def test_spec_errors_come_from_the_engines_parser():
    with pytest.raises(ValueError, match=r"^Einsum: einsum spec 'B1,oi->Bo': '1' is not an index letter"):
        tn.Einsum("B1,oi->Bo", (3, 4))
    assert tn.Einsum(" Bi , oi -> Bo ", (3, 4)).spec == "Bi,oi->Bo"


def test_specs_are_lower_case_instance_attributes_and_repr_shows_what_runs():
    layer = tn.Einsum("Bij,oi->Bo", (3, 4), (3,))
    assert not [name for name in vars(layer) if name.isupper()]  # no per-instance "constants"
    assert (layer.spec, layer.grad_input_spec, layer.grad_weight_spec, layer.grad_bias_spec) == \
        ("Bij,oi->Bo", "Bo,oi->Bi", "Bo,Bij->oi", "Bo->o")
    assert repr(layer).endswith("grad_input='Bo,oi->Bi' broadcast along 'j', grad_weight='Bo,Bij->oi', "
                                "grad_bias='Bo->o')")


def test_weight_gradient_is_written_in_place_without_a_full_size_temporary():
    layer = tn.Einsum("Bi,oij->Bo", (50, 40, 100), rng=0)  # j summed away: dW broadcast along j
    x = np.random.default_rng(0).standard_normal((8, 40))
    g = np.ones((8, 50))
    layer.forward(x)
    buffer = layer.weight.grad
    peak = peak_allocation(lambda: layer.backward(g, need_input_grad=False))
    assert layer.weight.grad is buffer
    assert peak < 0.1 * buffer.nbytes, peak / buffer.nbytes  # only the (o, i) contraction
    np.testing.assert_allclose(buffer, np.broadcast_to((g.T @ x)[:, :, None], buffer.shape), rtol=1e-12)
