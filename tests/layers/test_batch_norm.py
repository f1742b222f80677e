"""BatchNorm: gradients, PyTorch's semantics, errors, float32, array-likes, memory."""

import numpy as np
import pytest
from helpers.layer_checks import check_layer
from helpers.memory import peak_allocation
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn

# gradcheck draws its random output weights from seed 0: inputs use other seeds,
# otherwise sum(BatchNorm(x) * x) has an almost-zero input gradient.
X_SEED = 7


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
    # Inference keeps nothing for backward (evaluate and predict never call it).
    layer.forward(x, training=False)
    with pytest.raises(RuntimeError, match="BatchNorm.backward called without a forward"):
        layer.backward(np.ones_like(x))


@pytest.mark.parametrize("shape", [(6, 3, 5), (4, 3, 2, 3)])
def test_batchnorm_over_channels_of_sequences_and_images(shape):
    """(B, C, L) and (B, C, H, W): statistics per channel over the batch and every position
    (PyTorch's BatchNorm1d/2d)."""
    x = np.random.default_rng(X_SEED).standard_normal(shape) * 2 + 1
    layer = random_batchnorm(3)
    axes = (0, *range(2, len(shape)))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    gamma = layer.weight.data.reshape(1, 3, *[1] * (len(shape) - 2))
    beta = layer.bias.data.reshape(gamma.shape)
    np.testing.assert_allclose(layer.forward(x), gamma * (x - mean) / np.sqrt(var + 1e-5) + beta,
                               rtol=1e-12, atol=1e-12)
    layer.clear_saved()
    assert tn.gradcheck(layer, x) < 1e-7
    assert layer.output_shape((None, *shape[1:])) == (None, *shape[1:])


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
    with pytest.raises(ValueError, match=r"more than 1 value per feature .* shape \(1, 3\)"):
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
    model[3].forward(np.ones((32, 8), np.float32))
    assert model[3].backward(np.ones((32, 8), np.float32)).dtype == np.float32


def test_batchnorm_training_forward_computes_x_minus_mean_once():
    x = np.random.default_rng(0).standard_normal((2000, 100))
    layer = tn.BatchNorm(100)
    layer.forward(x)  # warm-up: the cached xhat of the measured call replaces this one
    peak = peak_allocation(lambda: layer.forward(x))
    assert peak < 2.5 * x.nbytes, peak / x.nbytes  # xhat (x - mean, scaled in place) and y
    mean, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(layer.forward(x), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12, atol=1e-12)


def test_batchnorm_takes_array_likes_like_dense():
    layer = tn.BatchNorm(2, dtype=np.float32)
    y = layer.forward([[1, 2], [3, 5]])  # a nested list of ints
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    np.testing.assert_allclose(y, [[-1, -1], [1, 1]], atol=1e-4)
    with pytest.raises(TypeError, match=r"BatchNorm\(features=2\) expects numbers, got .* dtype <U1"):
        layer.forward([["a", "b"]])
    with pytest.raises(ValueError, match=r"received input with shape \(2,\)"):
        layer.forward([1.0, 2.0])
    with pytest.raises(ValueError, match=r"gives 3 features, so either change it or use BatchNorm\(3\)"):
        layer.forward(np.ones((4, 3)))
