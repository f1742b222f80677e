"""The Layer base: one layer object at several places (parameters listed once, gradients
summed), buffers by name, one output-shape helper for every container."""

import numpy as np
import pytest
from helpers.models import model_with_buffers

import tinynet as tn


def shared_dense():
    return tn.Dense(3, 3, rng=0)


@pytest.mark.parametrize("build, first_place", [
    (lambda d: tn.Sequential(d, tn.Tanh(), d), "0"),
    (lambda d: tn.Parallel(d, d), "0"),
    (lambda d: tn.Parallel(tn.Sequential(d, tn.Tanh()), d, join="sum"), "0.0"),
    (lambda d: tn.Residual(tn.Sequential(d, d)), "block.0"),
    (lambda d: tn.Sequential(tn.Sequential(d, tn.ReLU()), tn.Residual(d)), "0.0"),
    (lambda d: tn.Graph("x", {"a": (tn.Sequential(d), "x"), "b": (tn.Residual(d), "a")}, "b"), "a.0"),
])
def test_containers_take_one_layer_object_at_several_places(build, first_place):
    dense = shared_dense()
    model = build(dense)
    assert model.parameters() == [dense.weight, dense.bias]  # listed once
    assert [name for name, _ in model.named_parameters()] == [f"{first_place}.weight",
                                                              f"{first_place}.bias"]
    x = np.random.default_rng(0).standard_normal((4, 3))
    assert tn.gradcheck(model, x) < 1e-7  # the gradient is the sum over the uses


def test_a_shared_activation_or_container_keeps_one_entry_per_use():
    act = tn.Tanh()
    model = tn.Sequential(tn.Dense(3, 3, rng=0), act, tn.Dense(3, 3, rng=1), act)
    x = np.random.default_rng(1).standard_normal((5, 3))
    assert tn.gradcheck(model, x) < 1e-7
    block = tn.Sequential(tn.Dense(3, 3, rng=2), tn.Tanh())
    twice = tn.Sequential(block, block)
    assert len(twice.parameters()) == 2 and len(list(twice.named_layers())) == 4
    assert tn.gradcheck(twice, x) < 1e-7


def test_distinct_layers_and_slices_still_work():
    model = tn.Sequential(tn.Dense(3, 3, rng=0), tn.Tanh(), tn.Dense(3, 3, rng=1))
    assert len(model[1:].parameters()) == 2  # a slice shares layers with the model: a new container
    assert len(tn.Parallel(model[0:1], tn.Dense(3, 3)).parameters()) == 4


def test_named_buffers_recurse_with_dotted_names_and_return_the_arrays_themselves():
    model = model_with_buffers()
    names = [name for name, _ in model.named_buffers()]
    assert names == ["1.running_mean", "1.running_var", "2.block.0.seen",
                     "2.block.1.running_mean", "2.block.1.running_var"]
    buffers = dict(model.named_buffers())
    assert buffers["1.running_mean"] is model[1].running_mean
    assert buffers["2.block.0.seen"] is model[2].block[0].seen
    assert [n for n, _ in model[1].named_buffers("x.")] == ["x.running_mean", "x.running_var"]
    assert list(tn.Dense(2, 2).named_buffers()) == []


def test_output_shape_of_one_helper_for_every_container():
    from tinynet.layers.base import output_shape_of

    class KeepsShape:  # protocol only: no output_shape, so the shape is kept
        def forward(self, x, training=True):
            return x

        def backward(self, grad_y, need_input_grad=True):
            return grad_y

        def parameters(self):
            return []

    assert output_shape_of(KeepsShape(), [None, 4]) == (None, 4)
    assert output_shape_of(tn.Dense(4, 2), (None, 4)) == (None, 2)
    assert tn.Parallel(KeepsShape(), tn.Dense(4, 2)).output_shape((None, 4)) == (None, 6)
    graph = tn.Graph("x", {"k": (KeepsShape(), "x"), "d": (tn.Dense(4, 3), "k")}, "d")
    assert graph.output_shape((None, 4)) == (None, 3)


def test_layer_docstring_has_a_shape_line():
    assert "Shape:" in (tn.Layer.__doc__ or "")
