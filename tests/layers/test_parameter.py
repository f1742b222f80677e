"""Parameter: the gradient that backward adds into."""

import pickle

import numpy as np

import tinynet as tn


def test_accumulate_writes_after_zero_grad_and_adds_after_that():
    rng = np.random.default_rng(0)
    p = tn.Parameter(np.zeros((3, 4)))
    g, x = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    p.accumulate("Bo,Bi->oi", g, x)
    np.testing.assert_allclose(p.grad, g.T @ x)
    p.accumulate("Bo,Bi->oi", g[:2], x[:2])  # another batch size: planned afresh
    np.testing.assert_allclose(p.grad, g.T @ x + g[:2].T @ x[:2])
    p.zero_grad()
    p.accumulate("Bo,Bi->oi", g, x)
    np.testing.assert_allclose(p.grad, g.T @ x)


def test_accumulate_takes_one_two_or_three_operands():
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((5, 3)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    bias = tn.Parameter(np.zeros(3))
    bias.accumulate("Bo->o", a)
    np.testing.assert_allclose(bias.grad, a.sum(axis=0))
    weight = tn.Parameter(np.zeros((3, 4)))
    weight.accumulate("Bo,Bi,B->oi", a, b, c)
    np.testing.assert_allclose(weight.grad, np.einsum("Bo,Bi,B->oi", a, b, c))


def test_a_parameter_that_has_accumulated_pickles():
    p = tn.Parameter(np.ones(3))
    p.accumulate("Bo->o", np.ones((2, 3)))
    q = pickle.loads(pickle.dumps(p))
    np.testing.assert_array_equal(q.grad, p.grad)
    q.accumulate("Bo->o", np.ones((2, 3)))
    np.testing.assert_array_equal(q.grad, 2 * p.grad)
