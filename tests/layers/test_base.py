"""The Layer base: containers refuse one layer object at two places, buffers by name,
one output-shape helper for every container."""

import pytest
from helpers.models import model_with_buffers

import tinynet as tn


def shared_dense():
    return tn.Dense(3, 3, rng=0)


@pytest.mark.parametrize("build, places", [
    (lambda d: tn.Sequential(d, tn.Tanh(), d), ("0", "2")),
    (lambda d: tn.Parallel(d, d), ("0", "1")),
    (lambda d: tn.Parallel(tn.Sequential(d, tn.Tanh()), d, join="sum"), ("0.0", "1")),
    (lambda d: tn.Residual(tn.Sequential(d, d)), ("0", "1")),
    (lambda d: tn.Sequential(tn.Sequential(d, tn.ReLU()), tn.Residual(d)), ("0.0", "1.block")),
    (lambda d: tn.Graph("x", {"a": (tn.Sequential(d), "x"), "b": (tn.Residual(d), "a")}, "b"),
     ("a.0", "b.block")),
])
def test_containers_refuse_a_layer_object_used_twice(build, places):
    with pytest.raises(ValueError) as err:
        build(shared_dense())
    message = str(err.value)
    assert f"positions {places[0]!r} and {places[1]!r} use the same layer object" in message
    assert "Dense(in_features=3, out_features=3, bias=True)" in message
    assert "create another Dense" in message


def test_a_shared_activation_or_container_is_refused_too():
    act = tn.Tanh()
    with pytest.raises(ValueError, match="positions '1' and '3' use the same layer object Tanh()"):
        tn.Sequential(tn.Dense(3, 3), act, tn.Dense(3, 3), act)
    block = tn.Sequential(tn.Dense(3, 3))
    with pytest.raises(ValueError, match="positions '0' and '1' use the same layer object Sequential"):
        tn.Sequential(block, block)


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
