"""Dropout, BatchNorm, summary, metrics and initializers (issue 4)."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers.layer_checks import check_layer
from rich.console import Console

import tinynet as tn
from tinynet.display.layer_table import summary_rows, summary_text
from tinynet.layers.initializers import INITIALIZERS, get_initializer
from tinynet.training import metrics

# gradcheck draws its random output weights from seed 0: inputs use other seeds,
# otherwise sum(BatchNorm(x) * x) has an almost-zero input gradient.
X_SEED = 7


# --- Dropout -------------------------------------------------------------------------------

def test_dropout_gradcheck_with_a_fixed_mask():
    rng = np.random.default_rng(X_SEED)
    x = rng.standard_normal((6, 5))
    layer = tn.Dropout(0.4, rng=1)
    mask = rng.random((6, 5)) >= 0.4
    layer.fix_mask(mask)
    check_layer(layer, x)
    np.testing.assert_array_equal(layer.forward(x), x * mask / 0.6)


def test_dropout_gradcheck_by_reseeding_its_rng():
    """The other way to fix the mask: the same seed before each forward."""
    x = np.random.default_rng(X_SEED).standard_normal((4, 3))
    layer = tn.Dropout(0.5)

    class Reseeded(tn.Layer):
        def forward(self, x, training=True):
            layer.rng = np.random.default_rng(123)
            return layer.forward(x, training)

        def backward(self, grad_y, need_input_grad=True):
            return layer.backward(grad_y)

    assert tn.gradcheck(Reseeded(), x) < 1e-7


def test_dropout_inverted_scaling_and_inference_identity():
    x = np.ones((400, 50))
    layer = tn.Dropout(0.3, rng=0)
    y = layer.forward(x, training=True)
    kept = y != 0
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7])
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.02)  # expectation preserved
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)  # dx = g * keep / (1 - p)
    assert layer.forward(x, training=False) is x
    assert layer.backward(x) is x
    assert layer(x) is x  # __call__ is inference
    assert tn.Dropout(0.0).forward(x, training=True) is x


def test_dropout_same_seed_same_masks_and_fresh_mask_per_call():
    x = np.ones((8, 8))
    a, b = tn.Dropout(0.5, rng=3), tn.Dropout(0.5, rng=3)
    first = a.forward(x)
    np.testing.assert_array_equal(first, b.forward(x))
    assert not np.array_equal(first, a.forward(x))
    a.fix_mask(None)  # back to random, no error


def test_dropout_errors():
    with pytest.raises(ValueError, match=r"Dropout p must be a finite number >= 0 and < 1, got 1"):
        tn.Dropout(1)
    with pytest.raises(ValueError, match="Dropout p"):
        tn.Dropout(-0.1)
    layer = tn.Dropout(0.5)
    with pytest.raises(ValueError, match="only 0"):
        layer.fix_mask([0.5, 1])
    layer.fix_mask(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"fixed mask has shape \(2, 3\) but the input has shape \(4, 3\)"):
        layer.forward(np.ones((4, 3)))
    assert layer.get_config() == {"p": 0.5} and repr(layer) == "Dropout(p=0.5)"


# --- BatchNorm -----------------------------------------------------------------------------

def random_batchnorm(features: int, seed: int = 1) -> tn.BatchNorm:
    layer = tn.BatchNorm(features)
    rng = np.random.default_rng(seed)
    layer.weight.data[:] = rng.standard_normal(features)
    layer.bias.data[:] = rng.standard_normal(features)
    return layer


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradcheck(training):
    x = np.random.default_rng(X_SEED).standard_normal((8, 5)) * 3 + 1
    layer = random_batchnorm(5)
    if training:
        check_layer(layer, x)
        return
    layer.running_mean[:], layer.running_var[:] = 0.5, 2.0

    class Inference(tn.Layer):  # gradcheck runs training=True; pin inference mode
        def forward(self, x, training=True):
            return layer.forward(x, training=False)

        def backward(self, grad_y, need_input_grad=True):
            return layer.backward(grad_y)

        def named_children(self):  # so that weight and bias are checked in inference mode too
            return [("bn", layer)]

    errors = tn.gradcheck_details(Inference(), x)
    assert set(errors) == {"input", "bn.weight", "bn.bias"}, errors
    assert max(errors.values()) < 1e-7, errors


def test_batchnorm_gradcheck_inside_a_model_with_a_loss():
    rng = np.random.default_rng(X_SEED)
    # no bias before BatchNorm: its true gradient is exactly 0 (BN subtracts the mean), and a
    # relative error of 0 against finite-difference noise is meaningless
    model = tn.Sequential(tn.Dense(4, 6, bias=False, rng=1), random_batchnorm(6), tn.Tanh(),
                          tn.Dense(6, 3, rng=2))
    error = tn.gradcheck(model, rng.standard_normal((10, 4)), rng.integers(0, 3, 10),
                         loss=tn.SoftmaxCrossEntropy())
    assert error < 1e-7


def test_batchnorm_matches_pytorch_semantics():
    """Normalizes with the biased batch variance; running statistics follow PyTorch's
    momentum rule with the unbiased variance, and are what inference uses."""
    rng = np.random.default_rng(X_SEED)
    layer = random_batchnorm(3)
    gamma, beta = layer.weight.data.copy(), layer.bias.data.copy()
    running_mean, running_var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.standard_normal((16, 3)) * [1.0, 5.0, 0.1] + [0.0, -2.0, 7.0]
        y = layer.forward(x, training=True)
        mean, var = x.mean(axis=0), x.var(axis=0)
        np.testing.assert_allclose(y, gamma * (x - mean) / np.sqrt(var + 1e-5) + beta, rtol=1e-12)
        running_mean = 0.9 * running_mean + 0.1 * mean
        running_var = 0.9 * running_var + 0.1 * x.var(axis=0, ddof=1)
        np.testing.assert_allclose(layer.running_mean, running_mean, rtol=1e-12)
        np.testing.assert_allclose(layer.running_var, running_var, rtol=1e-12)
    x = rng.standard_normal((2, 3))
    expected = gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta
    before = layer.running_mean.copy()
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.running_mean, before)  # inference leaves them alone
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in layer.named_buffers()] == ["running_mean", "running_var"]
    assert tn.BatchNorm(4).get_config() == {"features": 4, "momentum": 0.1, "eps": 1e-5,
                                            "dtype": "float64"}
    assert repr(tn.BatchNorm(4)) == "BatchNorm(features=4, momentum=0.1, eps=1e-05)"


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(2, 20), features=st.integers(1, 6), seed=st.integers(0, 2**16),
       scale=st.floats(1e-2, 1e3))
def test_batchnorm_output_has_zero_mean_unit_variance(batch, features, seed, scale):
    x = np.random.default_rng(seed).standard_normal((batch, features)) * scale + scale
    y = tn.BatchNorm(features, eps=1e-12).forward(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-9)
    var = x.var(axis=0)
    np.testing.assert_allclose(y.var(axis=0), var / (var + 1e-12), rtol=1e-6)  # eps keeps it below 1


def test_batchnorm_errors_and_chain_check():
    with pytest.raises(ValueError, match=r"more than 1 sample per batch .* shape \(1, 3\)"):
        tn.BatchNorm(3).forward(np.ones((1, 3)))
    assert tn.BatchNorm(3).forward(np.ones((1, 3)), training=False).shape == (1, 3)
    with pytest.raises(ValueError, match=r"BatchNorm\(features=3\) expected input of shape \(batch, 3\)"):
        tn.BatchNorm(3).forward(np.ones((4, 5)))
    with pytest.raises(ValueError, match="Sequential layer 1 does not fit"):
        tn.Sequential(tn.Dense(4, 5), tn.BatchNorm(6))
    with pytest.raises(ValueError, match="momentum"):
        tn.BatchNorm(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        tn.BatchNorm(3, eps=0)
    with pytest.raises(TypeError, match="features"):
        tn.BatchNorm(2.5)


def test_float32_end_to_end_for_dropout_and_batchnorm():
    rng = np.random.default_rng(X_SEED)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    model = tn.Sequential(tn.Dense(4, 8, rng=1, dtype=np.float32), tn.BatchNorm(8, dtype=np.float32),
                          tn.ReLU(), tn.Dropout(0.3, rng=2), tn.Dense(8, 3, rng=3, dtype=np.float32))
    out = model.forward(x)
    assert out.dtype == np.float32 and model.forward(x, training=False).dtype == np.float32
    assert model.backward(np.ones_like(out)).dtype == np.float32
    bn = model[1]
    for array in (bn.weight.data, bn.weight.grad, bn.bias.grad, bn.running_mean, bn.running_var):
        assert array.dtype == np.float32
    assert model[3].backward(np.ones((32, 8), np.float32)).dtype == np.float32


# --- summary -------------------------------------------------------------------------------

def deep_model() -> tn.Sequential:
    return tn.Sequential(tn.Dense(64, 128, bias=False, rng=0), tn.BatchNorm(128), tn.ReLU(),
                         tn.Dropout(0.2), tn.Sequential(tn.Dense(128, 10, rng=0), tn.Identity()))


def test_summary_rows_shapes_and_counts():
    model = deep_model()
    rows = summary_rows(model, 64)
    assert [r.name for r in rows] == ["0", "1", "2", "3", "4", "4.0", "4.1"]
    assert [r.output_shape for r in rows] == ["(B, 128)"] * 4 + ["(B, 10)"] * 3
    assert [r.params for r in rows] == [8192, 256, 0, 0, 1290, 1290, 0]
    assert rows[1].buffers == 256 and rows[5].depth == 1
    text = summary_text(model, 64)
    assert "Total params: 9,994" in text  # 8192 + 256 + 1290 trainable + 256 running stats
    assert "Trainable params: 9,738" in text and "Non-trainable params: 256" in text
    assert "4.0: Dense(in_features=128, out_features=10, bias=True)" in text


def test_summary_prints_plain_text_outside_a_terminal_and_a_table_inside(capsys):
    model = deep_model()
    model.summary(64)  # Layer.summary, via the shared console (not a terminal under pytest)
    plain = capsys.readouterr().out
    assert plain.strip() == summary_text(model, 64).strip()
    assert "┃" not in plain and "\x1b[" not in plain
    buffer = io.StringIO()
    tn.summary(model, 64, console=Console(file=buffer, force_terminal=True, width=120))
    rich_text = buffer.getvalue()
    assert "Output shape" in rich_text and "9,994" in rich_text and "┃" in rich_text


def test_summary_errors():
    with pytest.raises(ValueError, match=r"layer '0' cannot take input of shape \(B, 5\)"):
        summary_text(deep_model(), 5)
    with pytest.raises(ValueError, match="input_features"):
        summary_text(deep_model(), 0)
    assert "(B, 3)" in summary_text(tn.Dense(2, 3), 2)


# --- metrics and initializers --------------------------------------------------------------

def test_metrics_return_batch_sums():
    logits = np.array([[2.0], [-1.0], [0.5], [-3.0]])
    target = np.array([1, 1, 0, 0])
    assert metrics.binary_accuracy(logits, target) == 2.0
    assert metrics.accuracy(logits.ravel(), target.reshape(-1, 1)) == 2.0
    assert metrics.mean_squared_error(logits, target) == pytest.approx(((logits.ravel() - target) ** 2).sum())
    out, y = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[0.0, 2.0], [3.0, 1.0]])
    assert metrics.mean_squared_error(out, y) == pytest.approx((1 + 16) / 2)
    assert metrics.mean_absolute_error(out, y) == pytest.approx((1 + 4) / 2)
    assert {"accuracy", "binary_accuracy", "mse", "mae"} <= set(metrics.METRICS)


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
