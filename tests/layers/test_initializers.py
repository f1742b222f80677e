"""Initializers: scales by name, callables, errors, and one init path for Dense and Einsum."""

import numpy as np
import pytest

import tinynet as tn
from tinynet.layers.initializers import INITIALIZERS, get_initializer


@pytest.mark.parametrize("name, std", [("he_normal", np.sqrt(2 / 400)), ("he_uniform", np.sqrt(2 / 400)),
                                       ("glorot_normal", np.sqrt(2 / 700)),
                                       ("glorot_uniform", np.sqrt(2 / 700))])
def test_initializers_by_name_have_their_scale(name, std):
    layer = tn.Dense(400, 300, init=name, rng=0, dtype=np.float32)
    assert layer.weight.dtype == np.float32
    assert layer.weight.data.std() == pytest.approx(std, rel=0.02)
    assert abs(layer.weight.data.mean()) < 0.01 * std * 10
    np.testing.assert_array_equal(layer.bias.data, 0)


def test_initializer_names_callables_and_errors():
    uniform = tn.Dense(3, 2, init="uniform", rng=0)
    assert ((uniform.weight.data >= 0) & (uniform.weight.data < 1)).all() and uniform.bias.data.any()
    assert not tn.Dense(3, 2, init="zeros").weight.data.any()
    calls = []

    def constant(rng, shape, fan_in, fan_out, dtype):
        calls.append((shape, fan_in, fan_out, dtype))
        return np.full(shape, 0.5, dtype=dtype)

    layer = tn.Dense(3, 2, init=constant)
    np.testing.assert_array_equal(layer.weight.data, 0.5)
    assert calls[0][:3] == ((2, 3), 3, 2)
    assert get_initializer(constant) is constant
    with pytest.raises(ValueError, match=r"must be one of \[.*'he_normal'.*'glorot_uniform'.*\], "
                                         r"got 'he'; did you mean 'he_uniform'|he_normal"):
        tn.Dense(3, 2, init="he")
    with pytest.raises(ValueError) as err:
        get_initializer("xavier")
    assert all(name in str(err.value) for name in INITIALIZERS)


def test_a_misspelt_initializer_name_suggests_the_closest():
    with pytest.raises(ValueError, match="did you mean 'he_normal'"):
        tn.Dense(2, 2, init="he_norml")


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
