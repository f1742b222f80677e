"""Must show (core): mistakes raise ValueError naming the layer/argument and the shapes or values."""

import numpy as np
import pytest

import tinynet as tn

NUMPY_INTERNALS = ("operands could not be broadcast", "einstein sum subscripts", "index out of bounds")


def message(exc_info) -> str:
    text = str(exc_info.value)
    assert not any(internal in text for internal in NUMPY_INTERNALS), text
    return text


def test_dense_wrong_feature_count():
    with pytest.raises(ValueError) as err:
        tn.Dense(4, 10).forward(np.ones((32, 5)))
    text = message(err)
    assert "Dense(in_features=4" in text and "(batch, 4)" in text and "(32, 5)" in text


def test_dense_wrong_features_inside_a_model_and_in_fit():
    model = tn.Sequential(tn.Dense(4, 10), tn.LeakyReLU(), tn.Dense(10, 3))
    with pytest.raises(ValueError, match=r"\(batch, 4\).*\(8, 6\)"):
        model.forward(np.ones((8, 6)))
    loader = tn.DataLoader(np.ones((8, 6)), np.zeros(8, dtype=int))
    with pytest.raises(ValueError, match=r"\(1, 6\)"):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), loader, 1,
               progress="none")


def test_dataloader_length_mismatch():
    with pytest.raises(ValueError) as err:
        tn.DataLoader(np.ones((10, 4)), np.zeros(9))
    text = message(err)
    assert "DataLoader" in text and "(10, 4)" in text and "(9,)" in text


@pytest.mark.parametrize("labels,bad", [([0, 1, 3], "3"), ([0, -1, 2], "-1")])
def test_labels_outside_the_class_range(labels, bad):
    with pytest.raises(ValueError) as err:
        tn.SoftmaxCrossEntropy().forward(np.zeros((3, 3)), np.array(labels))
    text = message(err)
    assert "SoftmaxCrossEntropy" in text and "[0, 3)" in text and bad in text


def test_labels_out_of_range_caught_once_before_training():
    model = tn.Sequential(tn.Dense(2, 3))
    loader = tn.DataLoader(np.ones((4, 2)), np.array([0, 1, 2, 5]))
    before = model[0].weight.data.copy()
    with pytest.raises(ValueError, match=r"y labels must be in \[0, 3\)"):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), loader, 1,
               progress="none")
    np.testing.assert_array_equal(model[0].weight.data, before)


def test_sequential_sizes_must_chain_and_layers_must_be_layers():
    with pytest.raises(ValueError, match=r"layer 2 .*\(batch, 8\).*\(None, 10\)"):
        tn.Sequential(tn.Dense(4, 10), tn.ReLU(), tn.Dense(8, 3))
    with pytest.raises(TypeError, match="layer 1 must be a layer"):
        tn.Sequential(tn.Dense(4, 10), "relu")
    with pytest.raises(TypeError, match=r"write ReLU\(\.\.\.\)"):
        tn.Sequential(tn.Dense(4, 10), tn.ReLU)


def test_hyper_parameters_are_validated():
    params = tn.Dense(2, 2).parameters()
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got -0.1"):
        tn.SGD(params, lr=-0.1)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        tn.DataLoader(np.ones((3, 2)), np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="did you mean 'drop'"):
        tn.DataLoader(np.ones((3, 2)), np.zeros(3), last_batch="dorp")
    with pytest.raises(ValueError, match="did you mean 'he_normal'"):
        tn.Dense(2, 2, init="he_norml")
