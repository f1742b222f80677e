"""A layer shared by two models, with their forwards interleaved: as with PyTorch's autograd,
each model's backward gets the values of its own forward and the gradients add up, as long as
the backward passes run in reverse order of the forwards (each layer keeps a stack of saved
values per forward call, consumed last in, first out)."""

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
