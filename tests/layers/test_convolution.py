"""Conv1D and Conv2D: gradients and the protocol, the windows made once per step, shapes,
initialisation, float32, save/load, summary, CNN stacks in Sequential, and input errors."""

import numpy as np
import pytest
from helpers.errors import error_text
from helpers.layer_checks import (
    check_layer,
    check_save_load_round_trip,
    check_skipping_the_input_grad,
    rebuild_from_config,
)

import tinynet as tn
import tinynet.layers.conv.convolution as convolution
from tinynet.display.layer_table import summary_rows

LAYERS = {
    "conv2d": (lambda: tn.Conv2D(2, 3, 3, rng=0), (2, 2, 5, 6)),
    "conv2d-stride-padding": (lambda: tn.Conv2D(2, 3, (3, 2), stride=(2, 1), padding=(1, 2), rng=0),
                              (2, 2, 6, 5)),
    "conv2d-dilation-same": (lambda: tn.Conv2D(2, 2, 3, padding="same", dilation=2, rng=0), (2, 2, 5, 5)),
    "conv2d-no-bias": (lambda: tn.Conv2D(1, 2, 2, stride=3, bias=False, rng=0), (3, 1, 7, 7)),
    "conv1d": (lambda: tn.Conv1D(3, 2, 4, stride=2, padding=1, rng=0), (2, 3, 9)),
    "conv1d-same-even": (lambda: tn.Conv1D(2, 3, 4, padding="same", rng=0), (2, 2, 7)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_gradients_protocol_and_float32(name):
    make, shape = LAYERS[name]
    check_layer(make(), np.random.default_rng(1).standard_normal(shape))


@pytest.mark.parametrize("name", ["conv2d", "conv1d"])
def test_skipping_the_input_gradient_leaves_the_same_parameter_gradients(name):
    make, shape = LAYERS[name]
    check_skipping_the_input_grad(make(), np.random.default_rng(2).standard_normal(shape))


def test_a_conv_used_twice_gets_the_sum_of_both_gradients():
    shared = tn.Conv2D(2, 2, 3, padding=1, rng=3)
    model = tn.Sequential(shared, tn.Tanh(), shared)
    assert len(model.parameters()) == 2
    assert tn.gradcheck(model, np.random.default_rng(4).standard_normal((2, 2, 4, 4))) < 1e-7


def test_the_windows_are_made_once_per_step(monkeypatch):
    """Forward makes the im2col columns; the weight gradient reuses them."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[0].shape)
        return windows(*args, **kwargs)

    windows = convolution.windows
    monkeypatch.setattr(convolution, "windows", counted)
    layer = tn.Conv2D(2, 4, 3, padding=1, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6))
    layer.backward(np.ones(layer.forward(x).shape))
    assert calls == [(2, 2, 8, 8)]


def test_the_columns_array_is_reused_from_step_to_step():
    """The columns of one step (and then their gradient) go back to the layer's pool and are
    the next forward's columns: no new multi-megabyte array per step."""
    layer = tn.Conv2D(2, 4, 3, padding=1, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6))
    layer.backward(np.ones(layer.forward(x).shape))
    assert len(layer.scratch) == 3  # the columns; at stride 1 the widened gradient and its columns
    layer.forward(x)
    assert len(layer.scratch) == 2  # the columns taken again, and held until this call's backward
    layer.backward(np.ones((2, 4, 6, 6)), need_input_grad=False)
    layer(x)  # inference gives the columns back at once
    assert len(layer.scratch) == 3
    strided = tn.Conv2D(2, 4, 3, stride=2, rng=0)
    strided.backward(np.ones(strided.forward(x).shape))
    assert len(strided.scratch) == 1  # the columns, their gradient written into them


def test_output_sizes_follow_pytorchs_formula():
    x = np.zeros((2, 3, 11, 8))
    for kwargs, want in [({}, (9, 6)), ({"stride": 2}, (5, 3)), ({"padding": 2, "dilation": 2}, (11, 8)),
                         ({"padding": "same"}, (11, 8)), ({"padding": "valid", "stride": (3, 1)}, (3, 6)),
                         ({"padding": (0, 1), "stride": 2, "dilation": (1, 2)}, (5, 3))]:
        layer = tn.Conv2D(3, 4, 3, **kwargs)
        assert layer(x).shape == (2, 4, *want), kwargs
        assert layer.output_shape((None, 3, 11, 8)) == (None, 4, *want)
    assert tn.Conv1D(3, 5, 4, padding="same")(np.zeros((2, 3, 10))).shape == (2, 5, 10)


def test_pytorch_layout_names_and_he_normal_init():
    layer = tn.Conv2D(4, 6, (3, 5), rng=0)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [("weight", (6, 4, 3, 5)), ("bias", (6,))]
    assert np.all(layer.bias.data == 0)
    big = tn.Conv2D(64, 64, 3, rng=1)
    assert abs(big.weight.data.std() - np.sqrt(2 / (64 * 9))) < 0.01 * np.sqrt(2 / (64 * 9)) * 10
    again = tn.Conv2D(4, 6, (3, 5), rng=0)
    np.testing.assert_array_equal(again.weight.data, layer.weight.data)  # same seed, same weights
    assert tn.Conv1D(2, 3, 4, init="uniform", rng=0).bias.data.min() >= 0  # the article's init draws the bias


def test_float32_stays_float32_through_a_cnn():
    rng = np.random.default_rng(0)
    model = tn.Sequential(tn.Conv2D(1, 4, 3, padding=1, rng=rng, dtype=np.float32), tn.ReLU(),
                          tn.MaxPool2D(2), tn.Conv2D(4, 4, 3, rng=rng, dtype=np.float32),
                          tn.Flatten(), tn.Dense(16, 3, rng=rng, dtype=np.float32))
    x = rng.standard_normal((5, 1, 8, 8)).astype(np.float32)
    y = model.forward(x)
    dx = model.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_a_non_contiguous_input_gives_the_same_result():
    layer = tn.Conv2D(3, 2, 3, stride=2, padding=1, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 3))  # (B, H, W, C) memory
    images = x.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(layer(images), layer(np.ascontiguousarray(images)), rtol=1e-13, atol=1e-13)


def test_config_repr_and_save_load_round_trip(tmp_path):
    layer = tn.Conv2D(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                      bias=False, rng=0, dtype=np.float32)
    assert repr(layer) == ("Conv2D(in_channels=2, out_channels=3, kernel_size=(3, 2), stride=(2, 1), "
                           "padding=(1, 0), dilation=(1, 2), bias=False, dtype=float32)")
    assert repr(rebuild_from_config(layer)) == repr(layer)
    model = tn.Sequential(tn.Conv1D(2, 4, 3, padding="same", rng=0), tn.ReLU(), tn.MaxPool1D(2),
                          tn.AvgPool1D(2), tn.Flatten(), tn.Dense(16, 2, rng=1))
    check_save_load_round_trip(model, np.random.default_rng(0).standard_normal((3, 2, 16)), tmp_path)
    cnn = tn.Sequential(tn.Conv2D(1, 4, 3, padding="same", rng=0), tn.BatchNorm(4), tn.ReLU(),
                        tn.MaxPool2D(2, padding=1), tn.Conv2D(4, 2, 2, stride=2, rng=1), tn.AvgPool2D(1),
                        tn.GlobalAvgPool2D(), tn.Dense(2, 3, rng=2))
    check_save_load_round_trip(cnn, np.random.default_rng(1).standard_normal((3, 1, 6, 6)), tmp_path)


def test_summary_shows_the_shapes_through_a_cnn():
    model = tn.Sequential(tn.Conv2D(1, 6, 5, padding=2), tn.ReLU(), tn.MaxPool2D(2),
                          tn.Conv2D(6, 16, 5), tn.BatchNorm(16), tn.ReLU(), tn.AvgPool2D(2),
                          tn.Flatten(), tn.Dense(400, 10))
    rows = summary_rows(model, (1, 28, 28))
    assert [row.output_shape for row in rows] == [
        "(B, 6, 28, 28)", "(B, 6, 28, 28)", "(B, 6, 14, 14)", "(B, 16, 10, 10)", "(B, 16, 10, 10)",
        "(B, 16, 10, 10)", "(B, 16, 5, 5)", "(B, 400)", "(B, 10)"]
    assert [row.params for row in rows] == [156, 0, 0, 2416, 32, 0, 0, 0, 4010]
    with pytest.raises(ValueError, match=r"summary: layer '0' cannot take input of shape \(B, 3, 28, 28\)"):
        summary_rows(model, (3, 28, 28))


CNN_STACKS = {
    "conv-bn-relu-pool-flatten-dense": lambda: [tn.Conv2D(1, 8, 3), tn.BatchNorm(8), tn.ReLU(),
                                                tn.MaxPool2D(2), tn.Flatten(), tn.Dense(72, 10)],
    "conv-bn-conv-gap-dense": lambda: [tn.Conv2D(1, 8, 3), tn.BatchNorm(8), tn.Dropout(0.1),
                                       tn.Conv2D(8, 4, 1), tn.GlobalAvgPool2D(), tn.Dense(4, 2)],
    "conv1d-bn-dense-on-positions": lambda: [tn.Conv1D(2, 3, 3, padding="same"), tn.BatchNorm(3),
                                             tn.Dense(8, 5)],
    "bn-first-then-conv": lambda: [tn.BatchNorm(1), tn.Conv2D(1, 2, 3), tn.AvgPool2D(2), tn.Flatten(),
                                   tn.Dense(18, 3)],
}


@pytest.mark.parametrize("name", list(CNN_STACKS))
def test_cnn_stacks_compose_and_run(name):
    model = tn.Sequential(*CNN_STACKS[name]())
    x = np.random.default_rng(0).standard_normal((4, 2, 8) if "conv1d" in name else (4, 1, 8, 8))
    y = model.forward(x)
    assert model.backward(np.ones_like(y)).shape == x.shape


@pytest.mark.parametrize("layers, words", [
    (lambda: [tn.Conv2D(1, 8, 3), tn.Conv2D(4, 2, 3)],
     ["layer 1", "(batch, 4, height, width)", "(B, 8, B, B)"]),
    (lambda: [tn.Conv2D(1, 8, 3), tn.ReLU(), tn.BatchNorm(6)],
     ["layer 2", "BatchNorm(features=6", "(None, 8, None, None)"]),
    (lambda: [tn.Conv2D(1, 8, 3), tn.GlobalAvgPool2D(), tn.Dense(6, 2)], ["layer 2", "Dense", "(None, 8)"]),
])
def test_a_cnn_whose_channels_do_not_chain_is_refused(layers, words):
    with pytest.raises(ValueError) as err:
        tn.Sequential(*layers())
    text = error_text(err)
    assert all(word in text for word in words), text


@pytest.mark.parametrize("call, words", [
    (lambda: tn.Conv2D(3, 4, 3).forward(np.ones((2, 5, 8, 8))),
     ["Conv2D(in_channels=3, out_channels=4, kernel_size=(3, 3))", "(batch, 3, height, width)",
      "(2, 5, 8, 8)", "gives 5 channels"]),
    (lambda: tn.Conv2D(1, 4, 3).forward(np.ones((16, 64))),
     ["Conv2D", "(batch, 1, height, width)", "(16, 64)", "x.reshape(-1, 1, 8, 8)"]),
    (lambda: tn.Conv2D(1, 4, 5, padding=1).forward(np.ones((2, 1, 2, 6))),
     ["Conv2D", "spans (5, 5)", "padded input (4, 8)", "(2, 1, 2, 6)"]),
    (lambda: tn.Conv1D(2, 4, 3, dilation=3).forward(np.ones((2, 2, 6))), ["Conv1D", "spans (7,)", "(6,)"]),
    (lambda: tn.Conv1D(2, 4, 3).forward(np.ones((2, 2))), ["Conv1D", "(batch, 2, length)", "x[:, None, :]"]),
    (lambda: tn.Conv2D(1, 4, 3).forward(np.ones((1, 8, 8))), ["Conv2D", "(1, 8, 8)", "x[None]"]),
    (lambda: tn.Conv2D(1, 4, 3).forward(np.array([["a"]])), ["Conv2D", "numbers", "<U1"]),
])
def test_bad_inputs_name_the_layer_the_expected_and_the_given_shape(call, words):
    with pytest.raises(ValueError if "numbers" not in words else TypeError) as err:
        call()
    text = error_text(err)
    assert all(word in text for word in words), text


@pytest.mark.parametrize("make, error, words", [
    (lambda: tn.Conv2D(1, 2, 3, stride=1.5), TypeError, ["Conv2D stride", "integer", "1.5"]),
    (lambda: tn.Conv2D(1, 2, (3, 3, 3)), ValueError, ["Conv2D kernel_size", "2 ints", "(3, 3, 3)"]),
    (lambda: tn.Conv2D(1, 2, 0), ValueError, ["Conv2D kernel_size", ">= 1", "0"]),
    (lambda: tn.Conv2D(1, 2, 3, padding=-1), ValueError, ["Conv2D padding", ">= 0", "-1"]),
    (lambda: tn.Conv2D(1, 2, 3, padding="full"), ValueError, ["Conv2D padding", "'same'", "'full'"]),
    (lambda: tn.Conv2D(1, 2, 3, stride=2, padding="same"), ValueError, ["'same' needs stride 1", "(2, 2)"]),
    (lambda: tn.Conv1D(0, 2, 3), ValueError, ["Conv1D in_channels", ">= 1"]),
    (lambda: tn.Conv1D(1, 2, 3, bias="yes"), TypeError, ["Conv1D bias", "'yes'"]),
    (lambda: tn.Conv1D(1, 2, 3, dtype=np.int32), TypeError, ["Conv1D dtype", "int32"]),
])
def test_bad_arguments_name_the_argument(make, error, words):
    with pytest.raises(error) as err:
        make()
    text = error_text(err)
    assert all(word in text for word in words), text
