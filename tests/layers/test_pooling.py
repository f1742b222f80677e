"""Max, average and global average pooling: gradients and the protocol, ties, padding, shapes,
dtypes, save/load and input errors."""

import numpy as np
import pytest
from helpers.errors import error_text
from helpers.layer_checks import check_layer, check_save_load_round_trip, rebuild_from_config

import tinynet as tn


def distinct(shape, seed=0):
    """Values at least 0.1 apart in every window (a finite difference never changes an argmax)."""
    values = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape)
    return values * 0.1


LAYERS = {
    "max2d": (lambda: tn.MaxPool2D(2), (2, 3, 4, 6)),
    "max2d-overlapping-padded": (lambda: tn.MaxPool2D(3, stride=1, padding=1), (2, 2, 4, 5)),
    "max2d-rectangular": (lambda: tn.MaxPool2D((2, 3), stride=(1, 2)), (2, 2, 5, 7)),
    "max1d": (lambda: tn.MaxPool1D(3, stride=2, padding=1), (2, 3, 8)),
    "avg2d": (lambda: tn.AvgPool2D(2), (2, 3, 4, 6)),
    "avg2d-overlapping-padded": (lambda: tn.AvgPool2D(3, stride=2, padding=1), (2, 2, 5, 5)),
    "avg1d": (lambda: tn.AvgPool1D(2, stride=1), (2, 3, 7)),
    "global-avg": (lambda: tn.GlobalAvgPool2D(), (3, 4, 3, 5)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_gradients_and_protocol(name):
    make, shape = LAYERS[name]
    check_layer(make(), distinct(shape))


def test_max_pool_routes_each_gradient_to_the_first_maximum_of_its_window():
    """All-zero windows (after a ReLU) are ties: the gradient goes to the first position only,
    as in PyTorch; overlapping windows add their gradients up."""
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 1, 3] = 1.0
    pool = tn.MaxPool2D(2)
    assert pool.forward(x).tolist() == [[[[0.0, 1.0]]]]
    assert pool.backward(np.array([[[[5.0, 7.0]]]])).tolist() == [[[[5, 0, 0, 0], [0, 0, 0, 7.0]]]]
    x = np.array([[[0.0, 3.0, 1.0, 2.0]]])
    overlapping = tn.MaxPool1D(2, stride=1)
    assert overlapping.forward(x).tolist() == [[[3.0, 3.0, 2.0]]]
    assert overlapping.backward(np.ones((1, 1, 3))).tolist() == [[[0.0, 2.0, 0.0, 1.0]]]


def test_padding_reads_as_minus_infinity_for_max_and_zero_for_average():
    x = -np.ones((1, 1, 2, 2))
    assert np.all(tn.MaxPool2D(2, stride=1, padding=1)(x) == -1)
    np.testing.assert_allclose(tn.AvgPool2D(2, stride=1, padding=1)(x)[0, 0],
                               [[-0.25, -0.5, -0.25], [-0.5, -1, -0.5], [-0.25, -0.5, -0.25]])


def test_shapes_stride_defaults_to_the_kernel_and_float32_stays_float32():
    x = np.ones((2, 3, 9, 8), dtype=np.float32)
    for layer, shape in [(tn.MaxPool2D(2), (2, 3, 4, 4)), (tn.AvgPool2D(3), (2, 3, 3, 2)),
                         (tn.MaxPool2D(3, stride=2, padding=1), (2, 3, 5, 4)),
                         (tn.AvgPool2D((2, 4), stride=(1, 4)), (2, 3, 8, 2)), (tn.GlobalAvgPool2D(), (2, 3))]:
        y = layer.forward(x)
        assert y.shape == shape and y.dtype == np.float32, layer
        assert layer.output_shape((None, 3, 9, 8)) == (None, *shape[1:])
        dx = layer.backward(np.ones(y.shape, dtype=np.float32))
        assert dx.shape == x.shape and dx.dtype == np.float32
    assert tn.MaxPool1D(4)(np.ones((2, 3, 9))).shape == (2, 3, 2)


def test_integer_images_are_converted_to_float():
    y = tn.AvgPool2D(2)(np.arange(16).reshape(1, 1, 4, 4))
    assert y.dtype == np.float64 and y.tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]


def test_config_repr_and_save_load_round_trip(tmp_path):
    layer = tn.MaxPool2D(3, stride=(2, 1), padding=1)
    assert repr(layer) == "MaxPool2D(kernel_size=(3, 3), stride=(2, 1), padding=(1, 1))"
    assert repr(tn.AvgPool1D(2)) == "AvgPool1D(kernel_size=(2,))"
    for pool in (layer, tn.AvgPool1D(3, padding=1), tn.GlobalAvgPool2D()):
        assert repr(rebuild_from_config(pool)) == repr(pool)
    model = tn.Sequential(tn.AvgPool2D(2), layer, tn.Flatten(), tn.Dense(12, 2, rng=0))
    check_save_load_round_trip(model, distinct((2, 3, 8, 4)), tmp_path)


@pytest.mark.parametrize("call, error, words", [
    (lambda: tn.MaxPool2D(2).forward(np.ones((4, 64))), ValueError,
     ["MaxPool2D(kernel_size=(2, 2))", "(batch, channels, height, width)", "(4, 64)", "reshape"]),
    (lambda: tn.AvgPool1D(5).forward(np.ones((2, 3, 4))), ValueError,
     ["AvgPool1D(kernel_size=(5,))", "larger than the padded input", "(2, 3, 4)"]),
    (lambda: tn.GlobalAvgPool2D().forward(np.ones((2, 3, 4))), ValueError,
     ["GlobalAvgPool2D()", "(batch, channels, height, width)", "(2, 3, 4)"]),
    (lambda: tn.MaxPool2D(2, padding=2), ValueError, ["MaxPool2D padding", "at most half", "(2, 2)"]),
    (lambda: tn.MaxPool2D(2.0), TypeError, ["MaxPool2D kernel_size", "integer", "2.0"]),
    (lambda: tn.AvgPool2D(2, stride=0), ValueError, ["AvgPool2D stride", ">= 1", "0"]),
    (lambda: tn.MaxPool1D(2).forward(np.array([[["x", "y"]]])), TypeError, ["MaxPool1D", "numbers", "<U1"]),
])
def test_bad_inputs_name_the_layer(call, error, words):
    with pytest.raises(error) as err:
        call()
    text = error_text(err)
    assert all(word in text for word in words), text
