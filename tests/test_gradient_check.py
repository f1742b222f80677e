"""gradcheck leaves the model as it was: parameters, buffers and gradients, even when the check raises."""

import numpy as np
import pytest

import tinynet as tn
from tinynet.layers.state import state_arrays as model_state


def batchnorm_model() -> tn.Sequential:
    return tn.Sequential(tn.Dense(3, 4, bias=False, rng=1), tn.BatchNorm(4), tn.Tanh(), tn.Dense(4, 2, rng=2))


def test_gradcheck_leaves_parameters_buffers_and_grads_as_they_were():
    model = batchnorm_model()
    x = np.random.default_rng(7).standard_normal((6, 3))
    model.forward(x, True)
    model.backward(np.ones((6, 2)))  # grads the user may still want to look at
    state = [a.copy() for a in model_state(model)]
    grads = [(p.grad, p.grad.copy()) for p in model.parameters()]
    assert tn.gradcheck(model, x) < 1e-7
    for now, before in zip(model_state(model), state):
        np.testing.assert_array_equal(now, before)  # running statistics included
    for p, (grad, before) in zip(model.parameters(), grads):
        assert p.grad is grad
        np.testing.assert_array_equal(p.grad, before)


def test_gradcheck_restores_the_model_when_the_check_raises():
    class Fails(tn.Layer):
        """Moves a buffer on every forward, raises on the eighth (while a weight is moved)."""

        def __init__(self) -> None:
            self.count = np.zeros(1)
            self.calls = 0

        def named_buffers(self):
            return [("count", self.count)]

        def forward(self, x, training=True):
            self.calls += 1
            self.count += 1
            if self.calls == 8:
                raise RuntimeError("boom")
            return x

        def backward(self, grad_y, need_input_grad=True):
            return grad_y

    model = tn.Sequential(tn.Dense(2, 2, rng=0), Fails())
    weight = model[0].weight.data.copy()
    with pytest.raises(RuntimeError, match="boom"):
        tn.gradcheck(model, np.ones((1, 2)))  # 2 + 4 forwards before the weights
    assert model[1].count[0] == 0
    np.testing.assert_array_equal(model[0].weight.data, weight)


def test_gradcheck_of_a_graph_with_several_outputs():
    graph = tn.Graph("x", {"h": (tn.Dense(4, 6, rng=0), "x"), "y1": (tn.Dense(6, 3, rng=1), "h"),
                           "y2": (tn.Dense(6, 1, rng=2), "h")}, ["y1", "y2"])
    assert tn.gradcheck(graph, np.random.default_rng(0).standard_normal((5, 4))) < 1e-7
