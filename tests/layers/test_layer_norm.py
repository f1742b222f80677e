"""LayerNorm and RMSNorm: gradients, statistics of the output, float32, save/load, summary, errors."""

import numpy as np
import pytest
from helpers.errors import error_text
from helpers.layer_checks import check_layer, check_save_load_round_trip, check_skipping_the_input_grad

import tinynet as tn
from tinynet.display.layer_table import summary_rows

LAYERS = {
    "layer-norm": lambda: tn.LayerNorm(5),
    "layer-norm-tuple": lambda: tn.LayerNorm((5,), eps=1e-3),
    "rms-norm": lambda: tn.RMSNorm(5),
    "rms-norm-eps": lambda: tn.RMSNorm(5, eps=1e-6),
}


def trained_like(layer: tn.Layer, seed: int = 3) -> tn.Layer:
    """Weights and biases away from their ones/zeros start, so their gradients are checked too."""
    rng = np.random.default_rng(seed)
    for p in layer.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    return layer


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("shape", [(4, 5), (3, 4, 5)])
def test_layer_gradients(name, shape):
    check_layer(trained_like(LAYERS[name]()), np.random.default_rng(0).standard_normal(shape) * 3 + 1)


@pytest.mark.parametrize("name", list(LAYERS))
def test_skipping_the_input_grad_keeps_the_parameter_gradients(name):
    x = np.random.default_rng(1).standard_normal((2, 3, 5))
    check_skipping_the_input_grad(trained_like(LAYERS[name]()), x)


def test_layer_norm_output_has_zero_mean_and_unit_variance_per_position():
    x = np.random.default_rng(2).standard_normal((4, 6, 8)) * 5 + 3
    y = tn.LayerNorm(8, eps=1e-12)(x)
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1, rtol=1e-9)


def test_rms_norm_output_has_unit_root_mean_square_and_keeps_signs():
    x = np.random.default_rng(3).standard_normal((4, 6, 8)) * 5 + 3
    y = tn.RMSNorm(8, eps=1e-12)(x)
    np.testing.assert_allclose(np.sqrt((y * y).mean(axis=-1)), 1, rtol=1e-9)
    assert np.array_equal(np.sign(y), np.sign(x))


def test_rms_norm_default_eps_is_the_dtypes_machine_epsilon():
    tiny = np.full((1, 4), 1e-9)
    assert tn.RMSNorm(4)(tiny)[0, 0] == pytest.approx(1e-9 / np.sqrt(1e-18 + np.finfo(np.float64).eps))
    layer32 = tn.RMSNorm(4, dtype=np.float32)
    y = layer32(tiny.astype(np.float32))
    assert y.dtype == np.float32
    assert y[0, 0] == pytest.approx(1e-9 / np.sqrt(np.finfo(np.float32).eps), rel=1e-5)


@pytest.mark.parametrize("name", list(LAYERS))
def test_float32_stays_float32(name):
    layer = type(LAYERS[name]())(5, dtype=np.float32)
    x = np.random.default_rng(4).standard_normal((2, 3, 5))
    y = layer.forward(x)  # float64 data is cast to the layer's dtype once
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())


@pytest.mark.parametrize("name", list(LAYERS))
def test_save_and_load_round_trip(name, tmp_path):
    model = tn.Sequential(tn.Dense(3, 5, rng=0), trained_like(LAYERS[name]()), tn.Dense(5, 2, rng=1))
    check_save_load_round_trip(model, np.random.default_rng(5).standard_normal((4, 7, 3)), tmp_path)


def test_summary_rows_show_the_shape_and_the_parameter_count():
    model = tn.Sequential(tn.Dense(3, 5, rng=0), tn.LayerNorm(5), tn.RMSNorm(5))
    rows = summary_rows(model, (7, 3))
    assert [(r.layer, r.output_shape, r.params) for r in rows[1:]] == [
        ("LayerNorm(5, eps=1e-05)", "(B, 7, 5)", 10), ("RMSNorm(5, eps=None)", "(B, 7, 5)", 5)]


def test_wrong_feature_count_names_the_layer_and_both_shapes():
    with pytest.raises(ValueError) as err:
        tn.LayerNorm(4).forward(np.ones((2, 3, 5)))
    text = error_text(err)
    assert "LayerNorm(4)" in text and "(batch, ..., 4)" in text and "(2, 3, 5)" in text
    with pytest.raises(ValueError, match="LayerNorm normalizes the last axis only"):
        tn.LayerNorm((3, 4))
    with pytest.raises(ValueError, match="Sequential layer 1 does not fit"):
        tn.Sequential(tn.Dense(3, 5), tn.RMSNorm(4))
