"""Review fixes in the layers, losses, metrics, io and optimizers: each test failed before its fix."""

import numpy as np
import pytest

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
