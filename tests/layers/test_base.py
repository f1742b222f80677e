"""Review fixes in the layers, losses, metrics, io and optimizers: each test failed before its fix."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn

# --- B2: one layer object at two places is refused by every container -------------------------


def shared_dense():
    return tn.Dense(3, 3, rng=0)


@pytest.mark.parametrize("build, places", [
    (lambda d: tn.Sequential(d, tn.Tanh(), d), ("0", "2")),
    (lambda d: tn.Parallel(d, d), ("0", "1")),
    (lambda d: tn.Parallel(tn.Sequential(d, tn.Tanh()), d, join="sum"), ("0.0", "1")),
    (lambda d: tn.Residual(tn.Sequential(d, d)), ("0", "1")),
    (lambda d: tn.Sequential(tn.Sequential(d, tn.ReLU()), tn.Residual(d)), ("0.0", "1.block")),
    (lambda d: tn.Graph("x", {"a": (tn.Sequential(d), "x"), "b": (tn.Residual(d), "a")}, "b"),
     ("a.0", "b.block")),
])
def test_containers_refuse_a_layer_object_used_twice(build, places):
    with pytest.raises(ValueError) as err:
        build(shared_dense())
    message = str(err.value)
    assert f"positions {places[0]!r} and {places[1]!r} use the same layer object" in message
    assert "Dense(in_features=3, out_features=3, bias=True)" in message
    assert "create another Dense" in message


def test_a_shared_activation_or_container_is_refused_too():
    act = tn.Tanh()
    with pytest.raises(ValueError, match="positions '1' and '3' use the same layer object Tanh()"):
        tn.Sequential(tn.Dense(3, 3), act, tn.Dense(3, 3), act)
    block = tn.Sequential(tn.Dense(3, 3))
    with pytest.raises(ValueError, match="positions '0' and '1' use the same layer object Sequential"):
        tn.Sequential(block, block)


def test_sequential_append_refuses_a_layer_it_holds_and_stays_unchanged():
    d = shared_dense()
    model = tn.Sequential(d, tn.Tanh())
    with pytest.raises(ValueError, match="positions '0' and '2'"):
        model.append(d)
    assert len(model) == 2 and len(model.parameters()) == 2
    with pytest.raises(ValueError, match="same layer object Sequential"):
        model.append(model)
    assert len(model) == 2
    model.append(tn.Dense(3, 2))
    assert len(model.parameters()) == 4


def test_distinct_layers_and_slices_still_work():
    model = tn.Sequential(tn.Dense(3, 3, rng=0), tn.Tanh(), tn.Dense(3, 3, rng=1))
    assert len(model[1:].parameters()) == 2  # a slice shares layers with the model: a new container
    assert len(tn.Parallel(model[0:1], tn.Dense(3, 3)).parameters()) == 4


# --- B4/B7: one init path for Dense and Einsum, the initialiser's result checked -----------------

def float64_init(rng, shape, fan_in, fan_out, dtype):
    return np.full(shape, 0.25)  # ignores dtype: float64 whatever the layer wants


LAYERS_WITH_INIT = {
    "Dense": lambda init, **kw: tn.Dense(3, 2, init=init, **kw),
    "Einsum": lambda init, **kw: tn.Einsum("Bi,oi->Bo", (2, 3), (2,), init=init, **kw),
}


@pytest.mark.parametrize("name", list(LAYERS_WITH_INIT))
def test_custom_init_result_is_cast_to_the_layer_dtype(name):
    layer = LAYERS_WITH_INIT[name](float64_init, dtype=np.float32)
    assert layer.weight.dtype == np.float32 and layer.weight.grad.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, 0.25)
    assert layer.bias.dtype == np.float32 and not layer.bias.data.any()


@pytest.mark.parametrize("name", list(LAYERS_WITH_INIT))
def test_custom_init_of_the_wrong_shape_or_kind_is_named(name):
    make = LAYERS_WITH_INIT[name]
    with pytest.raises(ValueError, match=rf"^{name} init returned shape \(3,\), expected \(2, 3\)$"):
        make(lambda rng, shape, fan_in, fan_out, dtype: np.zeros(3))
    with pytest.raises(TypeError, match=rf"{name} init returned an array of dtype int64, expected floats"):
        make(lambda rng, shape, fan_in, fan_out, dtype: np.zeros(shape, dtype=np.int64))
    with pytest.raises(ValueError, match=rf"{name} init returned NaN or inf"):
        make(lambda rng, shape, fan_in, fan_out, dtype: np.full(shape, np.nan))


@pytest.mark.parametrize("name", list(LAYERS_WITH_INIT))
def test_a_model_with_a_custom_init_saves_and_loads(name, tmp_path):
    model = tn.Sequential(LAYERS_WITH_INIT[name](float64_init), tn.Tanh())
    assert "init" not in model[0].get_config()
    tn.save(model, tmp_path / "m.npz")
    loaded = tn.load(tmp_path / "m.npz")
    x = np.ones((2, 3))
    np.testing.assert_array_equal(loaded(x), model(x))
    named = LAYERS_WITH_INIT[name]("glorot_uniform")
    assert named.get_config()["init"] == "glorot_uniform"


def test_uniform_init_keeps_the_article_draw_order_for_both_layers():
    for make in LAYERS_WITH_INIT.values():
        layer = make("uniform", rng=np.random.default_rng(42))
        rng = np.random.default_rng(42)
        np.testing.assert_array_equal(layer.weight.data, rng.random((2, 3)))
        np.testing.assert_array_equal(layer.bias.data, rng.random(2))


# --- D3: one walker for buffers, one output-shape helper, shared stable functions -----------------

class Counted(tn.Layer):
    """A user's layer that declares a buffer through the own_buffers hook."""

    def __init__(self, features):
        self.features = features
        self.seen = np.zeros(features)

    def forward(self, x, training=True):
        if training:
            self.seen += 1
        return x

    def backward(self, grad_y, need_input_grad=True):
        return grad_y

    def own_buffers(self):
        return [("seen", self.seen)]


def model_with_buffers():
    return tn.Sequential(tn.Dense(3, 4, rng=0), tn.BatchNorm(4),
                         tn.Residual(tn.Sequential(Counted(4), tn.BatchNorm(4))), tn.Dense(4, 2, rng=1))


def test_named_buffers_recurse_with_dotted_names_and_return_the_arrays_themselves():
    model = model_with_buffers()
    names = [name for name, _ in model.named_buffers()]
    assert names == ["1.running_mean", "1.running_var", "2.block.0.seen",
                     "2.block.1.running_mean", "2.block.1.running_var"]
    buffers = dict(model.named_buffers())
    assert buffers["1.running_mean"] is model[1].running_mean
    assert buffers["2.block.0.seen"] is model[2].block[0].seen
    assert [n for n, _ in model[1].named_buffers("x.")] == ["x.running_mean", "x.running_var"]
    assert list(tn.Dense(2, 2).named_buffers()) == []


def test_own_buffers_are_saved_counted_and_restored_like_batchnorms(tmp_path):
    from tinynet.display.layer_table import summary_rows
    from tinynet.layers.state import state_arrays as model_state

    model = model_with_buffers()
    model.forward(np.random.default_rng(0).standard_normal((8, 3)), True)
    tn.save(model, tmp_path / "m.npz")
    loaded = tn.load(tmp_path / "m.npz", custom_layers={"Counted": Counted})
    np.testing.assert_array_equal(loaded[2].block[0].seen, 1.0)
    state = model_state(model)
    assert any(a is model[2].block[0].seen for a in state) and len(state) == 8 + 5
    rows = {row.name: row for row in summary_rows(model, 3)}
    assert rows["2.block.0"].buffers == 4 and rows["2"].buffers == 4 + 8


def test_output_shape_of_one_helper_for_every_container():
    from tinynet.layers.base import output_shape_of

    class KeepsShape:  # protocol only: no output_shape, so the shape is kept
        def forward(self, x, training=True):
            return x

        def backward(self, grad_y, need_input_grad=True):
            return grad_y

        def parameters(self):
            return []

    assert output_shape_of(KeepsShape(), [None, 4]) == (None, 4)
    assert output_shape_of(tn.Dense(4, 2), (None, 4)) == (None, 2)
    assert tn.Parallel(KeepsShape(), tn.Dense(4, 2)).output_shape((None, 4)) == (None, 6)
    graph = tn.Graph("x", {"k": (KeepsShape(), "x"), "d": (tn.Dense(4, 3), "k")}, "d")
    assert graph.output_shape((None, 4)) == (None, 3)


def test_einsum_spec_errors_come_from_the_engines_parser():
    with pytest.raises(ValueError, match=r"^Einsum: einsum spec 'B1,oi->Bo': '1' is not an index letter"):
        tn.Einsum("B1,oi->Bo", (3, 4))
    assert tn.Einsum(" Bi , oi -> Bo ", (3, 4)).spec == "Bi,oi->Bo"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_sigmoid_and_softmax_are_stable_and_keep_the_dtype(dtype):
    from tinynet.engine import stable_functions as F

    x = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        s, p, logp = F.sigmoid(x), F.softmax(x), F.log_softmax(x)
    assert s.dtype == p.dtype == logp.dtype == dtype
    np.testing.assert_allclose(s, [[0.0, 9.357623e-14, 0.5, 1.0, 1.0]], rtol=1e-6, atol=0)
    np.testing.assert_allclose(p, [[0, 0, 0, 0, 1]], atol=1e-30)
    np.testing.assert_allclose(logp[0, -2:], [-970.0, 0.0])
    np.testing.assert_array_equal(tn.Sigmoid().forward(x), s)
    np.testing.assert_array_equal(tn.Softmax().forward(x), p)


def test_sigmoid_layer_on_integer_input_gives_probabilities_not_truncated_integers():
    y = tn.Sigmoid().forward(np.array([[0, 2]]))
    np.testing.assert_allclose(y, [[0.5, 1 / (1 + np.exp(-2))]], rtol=1e-15)


def test_losses_use_the_shared_functions():
    logits = np.array([[800.0, 0.0, -5.0], [1.0, 2.0, 3.0]])
    loss = tn.SoftmaxCrossEntropy()
    loss.forward(logits, np.array([0, 2]))
    from tinynet.engine.stable_functions import sigmoid, softmax

    np.testing.assert_allclose(loss.backward(), (softmax(logits) - np.eye(3)[[0, 2]]) / 2, rtol=1e-15)
    bce = tn.SigmoidBinaryCrossEntropy()
    z = np.array([-800.0, 0.5, 40.0])
    bce.forward(z, np.array([0, 1, 1]))
    np.testing.assert_allclose(bce.backward(), (sigmoid(z) - [0, 1, 1]) / 3, rtol=1e-15)


def test_accuracy_binary_branch_is_binary_accuracy():
    from tinynet.training import metrics

    out, target = np.array([[0.3], [-2.0], [0.0], [5.0]]), np.array([[1.0], [1.0], [0.0], [0.0]])
    assert metrics.accuracy(out, target) == metrics.binary_accuracy(out, target) == 2.0
    assert metrics.accuracy(out.ravel(), target.ravel()) == 2.0


# --- D4: Softmax.backward runs its class-constant spec through the engine, for any rank ----------

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


# --- D5: fewer full-size temporaries in BatchNorm's forward and Adam's step ----------------------

def peak_allocation(run):
    """The peak of numpy's traced allocations while ``run()`` executes, in bytes."""
    import tracemalloc

    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_batchnorm_training_forward_computes_x_minus_mean_once():
    x = np.random.default_rng(0).standard_normal((2000, 100))
    layer = tn.BatchNorm(100)
    layer.forward(x)  # warm-up: the cached xhat of the measured call replaces this one
    peak = peak_allocation(lambda: layer.forward(x))
    assert peak < 2.5 * x.nbytes, peak / x.nbytes  # xhat (x - mean, scaled in place) and y
    mean, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(layer.forward(x), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", [tn.Adam, tn.AdamW])
def test_adam_step_needs_one_scratch_array_per_parameter(cls):
    param = tn.Parameter(np.random.default_rng(0).standard_normal(200_000))
    param.grad[...] = np.random.default_rng(1).standard_normal(200_000)
    optimizer = cls([param], lr=0.01)
    optimizer.step()  # the first step allocates the state m and v
    peak = peak_allocation(optimizer.step)
    assert peak < 1.5 * param.data.nbytes, peak / param.data.nbytes


def test_einsum_weight_gradient_is_written_in_place_without_a_full_size_temporary():
    layer = tn.Einsum("Bi,oij->Bo", (50, 40, 100), rng=0)  # j summed away: dW broadcast along j
    x = np.random.default_rng(0).standard_normal((8, 40))
    g = np.ones((8, 50))
    layer.forward(x)
    buffer = layer.weight.grad
    peak = peak_allocation(lambda: layer.backward(g, need_input_grad=False))
    assert layer.weight.grad is buffer
    assert peak < 0.1 * buffer.nbytes, peak / buffer.nbytes  # only the (o, i) contraction
    np.testing.assert_allclose(buffer, np.broadcast_to((g.T @ x)[:, :, None], buffer.shape), rtol=1e-12)


# --- Readability: Shape lines, array-likes in BatchNorm, honest Einsum spec attributes -----------

def test_docstrings_have_a_shape_line():
    from tinynet.training import metrics

    documented = [tn.Identity, tn.ReLU, tn.LeakyReLU, tn.Sigmoid, tn.Tanh, tn.Softmax, tn.Layer,
                  tn.Loss, metrics.accuracy, metrics.binary_accuracy, metrics.mean_squared_error,
                  metrics.mean_absolute_error]
    missing = [obj.__name__ for obj in documented if "Shape:" not in (obj.__doc__ or "")]
    assert not missing


def test_batchnorm_takes_array_likes_like_dense():
    layer = tn.BatchNorm(2, dtype=np.float32)
    y = layer.forward([[1, 2], [3, 5]])  # a nested list of ints
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    np.testing.assert_allclose(y, [[-1, -1], [1, 1]], atol=1e-4)
    with pytest.raises(TypeError, match=r"BatchNorm\(features=2\) expects numbers, got .* dtype <U1"):
        layer.forward([["a", "b"]])
    with pytest.raises(ValueError, match=r"received input with shape \(2,\); for a single sample"):
        layer.forward([1.0, 2.0])
    with pytest.raises(ValueError, match=r"gives 3 features, so either change it or use BatchNorm\(3\)"):
        layer.forward(np.ones((4, 3)))


def test_einsum_specs_are_lower_case_instance_attributes_and_repr_shows_what_runs():
    layer = tn.Einsum("Bij,oi->Bo", (3, 4), (3,))
    assert not [name for name in vars(layer) if name.isupper()]  # no per-instance "constants"
    assert (layer.spec, layer.grad_input_spec, layer.grad_weight_spec, layer.grad_bias_spec) == \
        ("Bij,oi->Bo", "Bo,oi->Bi", "Bo,Bij->oi", "Bo->o")
    assert repr(layer).endswith("grad_input='Bo,oi->Bi' broadcast along 'j', grad_weight='Bo,Bij->oi', "
                                "grad_bias='Bo->o')")


@given(rows=st.integers(1, 70), cols=st.integers(1, 40), lead=st.sampled_from([(), (2,)]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
@settings(max_examples=60, deadline=None)
def test_row_max_equals_numpy_max_over_the_last_axis(rows, cols, lead, dtype, seed):
    """Both of its paths (the transposed copy for few columns, numpy's own otherwise)."""
    from tinynet.engine.stable_functions import row_max

    x = np.random.default_rng(seed).standard_normal((*lead, rows, cols)).astype(dtype)
    got = row_max(x)
    assert got.dtype == dtype and got.shape == (*lead, rows, 1)
    np.testing.assert_array_equal(got, x.max(axis=-1, keepdims=True))
