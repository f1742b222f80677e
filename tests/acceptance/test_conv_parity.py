"""Convolution, pooling and batch normalization over images against PyTorch (float64): the
forward, the input gradient and the weight and bias gradients agree to a relative error of
1e-9 over strides 1-3, paddings 0/1/2/"same", dilations 1-2, odd and even sizes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinynet as tn

torch = pytest.importorskip("torch")
F = torch.nn.functional
TOLERANCE = 1e-9

STRIDES, PADDINGS, DILATIONS = (1, 2, 3), (0, 1, 2, "same"), (1, 2)
CONV_CASES = [(s, p, d, size) for s, p, d, size in itertools.product(STRIDES, PADDINGS, DILATIONS, (9, 10))
              if p != "same" or s == 1]  # PyTorch, like tinynet, takes "same" with stride 1 only


def relative_error(mine: np.ndarray, theirs: object) -> float:
    reference = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert np.shape(mine) == reference.shape, (np.shape(mine), reference.shape)
    return float(np.max(np.abs(mine - reference)) / max(np.max(np.abs(reference)), 1e-300))


def as_torch(array: np.ndarray) -> object:
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def compare(layer: tn.Layer, x: np.ndarray, reference, params: tuple[str, ...] = ()) -> None:
    """Forward, input gradient and parameter gradients of ``layer`` against ``reference(x, *params)``."""
    rng = np.random.default_rng(1)
    layer.zero_grad()
    y = layer.forward(x)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    xt = as_torch(x)
    pt = [as_torch(getattr(layer, name).data) for name in params]
    yt = reference(xt, *pt)
    yt.backward(torch.tensor(g))
    assert relative_error(y, yt) <= TOLERANCE
    assert relative_error(dx, xt.grad) <= TOLERANCE
    for name, tensor in zip(params, pt):
        assert relative_error(getattr(layer, name).grad, tensor.grad) <= TOLERANCE, name


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on its own copy
@pytest.mark.parametrize("stride, padding, dilation, size", CONV_CASES)
def test_conv2d_matches_pytorch(stride, padding, dilation, size):
    rng = np.random.default_rng(size + dilation)
    layer = tn.Conv2D(3, 4, (3, 2), stride=stride, padding=padding, dilation=dilation, rng=0)
    layer.bias.data[:] = rng.standard_normal(4)
    x = rng.standard_normal((2, 3, size, size - 1))
    compare(layer, x, lambda t, w, b: F.conv2d(t, w, b, stride=stride, padding=padding, dilation=dilation),
            ("weight", "bias"))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("stride, padding, dilation, size", CONV_CASES)
def test_conv1d_matches_pytorch(stride, padding, dilation, size):
    rng = np.random.default_rng(size)
    layer = tn.Conv1D(2, 3, 4, stride=stride, padding=padding, dilation=dilation, rng=1)
    layer.bias.data[:] = rng.standard_normal(3)
    x = rng.standard_normal((3, 2, size + 4))
    compare(layer, x, lambda t, w, b: F.conv1d(t, w, b, stride=stride, padding=padding, dilation=dilation),
            ("weight", "bias"))


def test_conv2d_without_bias_and_with_mixed_sizes_matches_pytorch():
    layer = tn.Conv2D(2, 3, (2, 3), stride=(1, 2), padding=(2, 1), dilation=(2, 1), bias=False, rng=2)
    x = np.random.default_rng(3).standard_normal((2, 2, 7, 8))
    compare(layer, x, lambda t, w: F.conv2d(t, w, None, stride=(1, 2), padding=(2, 1), dilation=(2, 1)),
            ("weight",))


POOL_CASES = [(k, s, p, size) for k, s, p, size in itertools.product((2, 3), (None, 1, 2, 3), (0, 1), (7, 8))]


@pytest.mark.parametrize("kernel, stride, padding, size", POOL_CASES)
def test_pooling_matches_pytorch(kernel, stride, padding, size):
    # a ReLU's output: many ties at zero, which both route to the first maximum
    x = np.maximum(np.random.default_rng(size).standard_normal((2, 3, size, size + 1)), 0)
    compare(tn.MaxPool2D(kernel, stride, padding), x, lambda t: F.max_pool2d(t, kernel, stride, padding))
    compare(tn.AvgPool2D(kernel, stride, padding), x, lambda t: F.avg_pool2d(t, kernel, stride, padding))
    rows = x[:, :, 0]
    compare(tn.MaxPool1D(kernel, stride, padding), rows, lambda t: F.max_pool1d(t, kernel, stride, padding))
    compare(tn.AvgPool1D(kernel, stride, padding), rows, lambda t: F.avg_pool1d(t, kernel, stride, padding))


def test_global_average_pooling_matches_adaptive_avg_pool():
    x = np.random.default_rng(0).standard_normal((3, 4, 5, 6))
    compare(tn.GlobalAvgPool2D(), x, lambda t: F.adaptive_avg_pool2d(t, 1).flatten(1))


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (5, 3, 7)])
def test_batch_norm_over_channels_matches_pytorch(shape):
    """PyTorch's BatchNorm2d/1d: training statistics, both parameter gradients, the running
    statistics after two steps, and inference on them."""
    rng = np.random.default_rng(len(shape))
    layer = tn.BatchNorm(3)
    layer.weight.data[:] = rng.standard_normal(3)
    layer.bias.data[:] = rng.standard_normal(3)
    running_mean, running_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for step in range(2):
        x = rng.standard_normal(shape) * 2 + step
        compare(layer, x, lambda t, w, b: F.batch_norm(t, running_mean, running_var, w, b, training=True,
                                                       momentum=0.1, eps=1e-5), ("weight", "bias"))
    assert relative_error(layer.running_mean, running_mean) <= TOLERANCE
    assert relative_error(layer.running_var, running_var) <= TOLERANCE
    x = rng.standard_normal(shape)
    reference = F.batch_norm(torch.tensor(x), running_mean, running_var, torch.tensor(layer.weight.data),
                             torch.tensor(layer.bias.data), training=False, eps=1e-5)
    assert relative_error(layer(x), reference) <= TOLERANCE


def test_a_lenet_step_matches_pytorch():
    """A whole CNN (conv, ReLU, max pool, conv, BatchNorm, avg pool, Flatten, Dense) with the
    cross-entropy: every parameter's gradient and the input's. (The convolution before
    BatchNorm has no bias: its true gradient is 0, and rounding noise has no relative error.)"""
    rng = np.random.default_rng(5)
    model = tn.Sequential(tn.Conv2D(1, 4, 5, padding=2, rng=0), tn.ReLU(), tn.MaxPool2D(2),
                          tn.Conv2D(4, 6, 3, bias=False, rng=1), tn.BatchNorm(6), tn.ReLU(), tn.AvgPool2D(2),
                          tn.Flatten(), tn.Dense(24, 10, rng=2))
    x, labels = rng.standard_normal((8, 1, 12, 12)), rng.integers(0, 10, 8)
    loss = tn.SoftmaxCrossEntropy()
    model.zero_grad()
    value = loss.forward(model.forward(x), labels)
    dx = model.backward(loss.backward())
    xt = as_torch(x)
    p = {name: as_torch(param.data) for name, param in model.named_parameters()}
    h = F.max_pool2d(F.relu(F.conv2d(xt, p["0.weight"], p["0.bias"], padding=2)), 2)
    h = F.conv2d(h, p["3.weight"])
    h = F.relu(F.batch_norm(h, None, None, p["4.weight"], p["4.bias"], training=True))
    logits = F.linear(F.avg_pool2d(h, 2).flatten(1), p["8.weight"], p["8.bias"])
    reference = F.cross_entropy(logits, torch.tensor(labels))
    reference.backward()
    assert abs(value - reference.item()) <= TOLERANCE * abs(reference.item())
    assert relative_error(dx, xt.grad) <= TOLERANCE
    for name, param in model.named_parameters():
        assert relative_error(param.grad, p[name].grad) <= TOLERANCE, name
