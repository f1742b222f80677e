"""Add and Concat: what they accept, their shape errors, their configs."""

import numpy as np
import pytest
from helpers.layer_checks import rebuild_from_config

import tinynet as tn


def test_merge_layers_take_a_list_and_concat_keeps_the_batch_axis():
    with pytest.raises(TypeError, match="joins a non-empty list"):
        tn.Add().forward(np.zeros((2, 2)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch axis"):
        tn.Concat(axis=0)


def test_merge_shape_errors_name_the_layer():
    with pytest.raises(ValueError, match="Add needs inputs of one shape"):
        tn.Add().forward([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="Concat.*cannot join"):
        tn.Concat().forward([np.zeros((2, 3)), np.zeros((3, 4))])


def test_get_config_rebuilds_add_and_concat():
    for layer in (tn.Concat(axis=-1), tn.Add()):
        assert repr(rebuild_from_config(layer)) == repr(layer)


def test_einsum_merge_derives_both_gradients_from_its_spec():
    layer = tn.EinsumMerge("Bqd,Bkd->Bqk")
    assert layer.grad_a_spec == "Bqk,Bkd->Bqd" and layer.grad_b_spec == "Bqk,Bqd->Bkd"
    rng = np.random.default_rng(0)
    a, b, g = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 3, 5))
    y = layer.forward([a, b])
    np.testing.assert_allclose(y, np.einsum("bqd,bkd->bqk", a, b), rtol=1e-12)
    da, db = layer.backward(g)
    np.testing.assert_allclose(da, np.einsum("bqk,bkd->bqd", g, b), rtol=1e-12)
    np.testing.assert_allclose(db, np.einsum("bqk,bqd->bkd", g, a), rtol=1e-12)
    assert layer.output_shape([(None, 3, 4), (None, 5, 4)]) == (None, 3, 5)
    assert repr(rebuild_from_config(layer)) == repr(layer)


def test_einsum_merge_with_a_summed_away_index_broadcasts_its_gradient():
    """'j' of the first operand is summed away: its gradient is the same along 'j'."""
    graph = tn.Graph(inputs=["a", "b"], nodes={"p": (tn.EinsumMerge("Bij,Bi->B"), ["a", "b"])}, output="p")
    rng = np.random.default_rng(1)
    assert tn.gradcheck(graph, (rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4)))) < 1e-7


def test_einsum_merge_errors():
    with pytest.raises(ValueError, match="exactly two operands"):
        tn.EinsumMerge("Bi,Bi,Bi->B")
    with pytest.raises(ValueError, match="explicit output"):
        tn.EinsumMerge("Bi,Bi")
    with pytest.raises(ValueError, match="joins exactly two arrays, got 3"):
        tn.EinsumMerge("Bi,Bi->B").forward([np.zeros((2, 3))] * 3)
    with pytest.raises(ValueError, match=r"the second input needs 3 axes \('Bkd'\), got shape \(2, 4\)"):
        tn.EinsumMerge("Bqd,Bkd->Bqk").forward([np.zeros((2, 3, 4)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="index 'd' has sizes 4 and 5"):
        tn.EinsumMerge("Bqd,Bkd->Bqk").output_shape([(None, 3, 4), (None, 2, 5)])
