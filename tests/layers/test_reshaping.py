"""Flatten and Reshape: views of each sample, their gradients, PyTorch's shapes, save/load."""

import numpy as np
import pytest
from helpers.layer_checks import check_layer, check_save_load_round_trip, rebuild_from_config

import tinynet as tn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("layer, shape", [
    (tn.Flatten(), (3, 2, 4, 5)),
    (tn.Flatten(start_dim=2), (3, 2, 4, 5)),
    (tn.Flatten(start_dim=1, end_dim=2), (3, 2, 4, 5)),
    (tn.Reshape((4, -1)), (3, 2, 4, 5)),
    (tn.Reshape((2, 3)), (3, 6)),
])
def test_protocol_and_gradients(layer, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    check_layer(layer, x)


@pytest.mark.parametrize("start, end", [(1, -1), (2, -1), (1, 2), (-2, -1)])
def test_flatten_matches_pytorch(start, end):
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    want = torch.nn.Flatten(start, end)(torch.tensor(x)).numpy()
    got = tn.Flatten(start, end).forward(x, training=False)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert tn.Flatten(start, end).output_shape((None, 3, 4, 5)) == (None, *want.shape[1:])


def test_reshape_keeps_the_batch_axis_and_fills_minus_one():
    x = np.arange(24.0).reshape(2, 12)
    np.testing.assert_array_equal(tn.Reshape((3, -1)).forward(x, False), x.reshape(2, 3, 4))
    assert tn.Reshape((3, -1)).output_shape((None, 12)) == (None, 3, 4)
    assert tn.Reshape((3, -1)).output_shape((None, None)) == (None, 3, None)


def test_bad_arguments_and_inputs_name_what_was_expected():
    with pytest.raises(ValueError, match="batch axis"):
        tn.Flatten(start_dim=0)
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=3, end_dim=-1\) does not fit a 3-D input"):
        tn.Flatten(start_dim=3).forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="at most one -1"):
        tn.Reshape((-1, -1))
    with pytest.raises(TypeError, match="tuple of sizes"):
        tn.Reshape(6)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"samples of shape \(5,\) \(5 values\) into \(2, 3\)"):
        tn.Reshape((2, 3)).forward(np.zeros((4, 5)))


def test_config_save_load_and_a_model_that_flattens(tmp_path):
    assert repr(rebuild_from_config(tn.Reshape((4, -1)))) == "Reshape(shape=(4, -1))"
    assert repr(rebuild_from_config(tn.Flatten(2, 3))) == "Flatten(start_dim=2, end_dim=3)"
    model = tn.Sequential(tn.Reshape((2, 4)), tn.Dense(4, 3, rng=0), tn.Flatten(), tn.Dense(6, 2, rng=1))
    x = np.random.default_rng(2).standard_normal((5, 8))
    assert model.output_shape((None, 8)) == (None, 2)
    check_save_load_round_trip(model, x, tmp_path)
    assert tn.gradcheck(model, x) < 1e-7
