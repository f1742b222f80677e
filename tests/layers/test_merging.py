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
