"""A layer shared by two models, with their forwards interleaved: as with PyTorch's autograd,
each model's backward gets the values of its own forward and the gradients add up, in whatever
order the backward passes run (each saved entry notes the model whose pass saved it)."""

import numpy as np

import tinynet as tn

RNG = np.random.default_rng(0)
XA, XB = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
GA, GB = RNG.standard_normal((4, 2)), RNG.standard_normal((4, 2))


def two_models():
    shared = tn.Dense(3, 3, rng=0)
    return (shared, tn.Sequential(shared, tn.Tanh(), tn.Dense(3, 2, rng=1)),
            tn.Sequential(shared, tn.ReLU(), tn.Dense(3, 2, rng=2)))


def separate_gradients():
    """Each model's forward and backward run alone, one after the other: the reference."""
    shared, a, b = two_models()
    a.forward(XA)
    grad_xa = a.backward(GA)
    b.forward(XB)
    grad_xb = b.backward(GB)
    return shared.weight.grad.copy(), shared.bias.grad.copy(), grad_xa, grad_xb


def test_interleaved_forwards_with_backwards_in_reverse_order_give_each_model_its_own_gradient():
    weight, bias, grad_xa, grad_xb = separate_gradients()
    shared, a, b = two_models()
    out_a = a.forward(XA)
    out_b = b.forward(XB)  # the shared layer now holds two saved entries, a's below b's
    np.testing.assert_allclose(b.backward(GB), grad_xb, rtol=1e-12)
    np.testing.assert_allclose(a.backward(GA), grad_xa, rtol=1e-12)
    np.testing.assert_allclose(shared.weight.grad, weight, rtol=1e-12)
    np.testing.assert_allclose(shared.bias.grad, bias, rtol=1e-12)
    np.testing.assert_allclose(out_a, a(XA), rtol=1e-12)
    np.testing.assert_allclose(out_b, b(XB), rtol=1e-12)
    assert shared.__dict__.get("_saved", []) == []  # every saved entry consumed


def test_a_model_used_twice_inside_another_forward_matches_the_reference():
    """Nested interleaving: a's forward, b's forward and backward, then a's backward."""
    weight, bias, grad_xa, grad_xb = separate_gradients()
    shared, a, b = two_models()
    a.forward(XA)
    b.forward(XB)
    b.backward(GB)
    b.forward(XB)  # b again, before a's backward
    b.backward(GB)
    np.testing.assert_allclose(a.backward(GA), grad_xa, rtol=1e-12)
    np.testing.assert_allclose(shared.weight.grad, weight + (weight - _grad_of_a_alone()), rtol=1e-10)


def _grad_of_a_alone():
    shared, a, _ = two_models()
    a.forward(XA)
    a.backward(GA)
    return shared.weight.grad.copy()


def test_backwards_in_the_order_of_the_forwards_give_each_model_its_own_gradient():
    weight, bias, grad_xa, grad_xb = separate_gradients()
    shared, a, b = two_models()
    a.forward(XA)
    b.forward(XB)
    np.testing.assert_allclose(a.backward(GA), grad_xa, rtol=1e-12)  # a first: a's own values
    np.testing.assert_allclose(b.backward(GB), grad_xb, rtol=1e-12)
    np.testing.assert_allclose(shared.weight.grad, weight, rtol=1e-12)
    np.testing.assert_allclose(shared.bias.grad, bias, rtol=1e-12)
    assert len(shared._saved) == 0


def test_a_model_used_inside_a_graph_and_alone_with_calls_interleaved():
    shared = tn.Dense(3, 3, rng=0)
    graph = tn.Graph(inputs="x", nodes={"h": (shared, "x"), "out": (tn.Dense(3, 2, rng=1), "h")},
                     output="out")
    alone = tn.Sequential(shared, tn.Tanh())
    graph.forward(XA)
    alone.forward(XB)
    grad_graph = graph.backward(GA)
    grad_alone = alone.backward(np.ones((4, 3)))
    reference = tn.Dense(3, 3, rng=0)
    ref_graph = tn.Graph(inputs="x", nodes={"h": (reference, "x"), "out": (tn.Dense(3, 2, rng=1), "h")},
                         output="out")
    ref_graph.forward(XA)
    np.testing.assert_allclose(grad_graph, ref_graph.backward(GA), rtol=1e-12)
    ref_alone = tn.Sequential(reference, tn.Tanh())
    ref_alone.forward(XB)
    np.testing.assert_allclose(grad_alone, ref_alone.backward(np.ones((4, 3))), rtol=1e-12)
    np.testing.assert_allclose(shared.weight.grad, reference.weight.grad, rtol=1e-12)


def test_clear_saved_on_one_model_keeps_the_other_models_entries():
    weight, bias, _, grad_xb = separate_gradients()
    shared, a, b = two_models()
    a.forward(XA)
    b.forward(XB)
    a.clear_saved()  # a's step was cut short
    np.testing.assert_allclose(b.backward(GB), grad_xb, rtol=1e-12)
    assert len(shared._saved) == 0
