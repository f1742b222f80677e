"""The flat buffers a fused SGD moves its parameters into (tinynet/optim/flat.py)."""

from __future__ import annotations

import numpy as np

import tinynet as tn
from tinynet.layers.parameter import ALIGNMENT
from tinynet.optim.flat import FlatGroup, flat_groups


def params(*shapes: tuple[int, ...], dtype: type = np.float64) -> list[tn.Parameter]:
    rng = np.random.default_rng(0)
    return [tn.Parameter(rng.standard_normal(s).astype(dtype), f"p{i}") for i, s in enumerate(shapes)]


def test_moving_keeps_values_and_makes_aligned_views():
    ps = params((3, 5), (5,), (7, 2))
    before = [p.data.copy() for p in ps]
    group = FlatGroup(ps)
    for p, b in zip(ps, before):
        assert np.array_equal(p.data, b)
        assert np.shares_memory(p.data, group.data) and np.shares_memory(p.grad, group.grad)
        assert p.data.ctypes.data % ALIGNMENT == 0 and p.grad.ctypes.data % ALIGNMENT == 0
    assert group.size >= sum(p.size for p in ps)


def test_one_group_per_dtype_and_none_for_a_repeated_parameter():
    ps = params((2, 2)) + params((3,), dtype=np.float32) + params((4,))
    groups = flat_groups(ps)
    assert groups is not None and [g.dtype for g in groups] == [np.float64, np.float32]
    assert [len(g.params) for g in groups] == [2, 1]
    assert flat_groups([ps[0], ps[0]]) is None


def test_fused_plain_sgd_equals_the_reference_update():
    rng = np.random.default_rng(1)
    fused, reference = params((4, 3), (3,)), params((4, 3), (3,))
    opt_fused, opt_ref = tn.SGD(fused, lr=0.1, fused=True), tn.SGD(reference, lr=0.1, fused=False)
    for _ in range(3):
        grads = [rng.standard_normal(p.shape) for p in fused]
        for pf, pr, g in zip(fused, reference, grads):
            pf.zero_grad(), pr.zero_grad()
            pf.add_grad(g), pr.add_grad(g)
        opt_fused.step(), opt_ref.step()
    for pf, pr in zip(fused, reference):
        assert np.array_equal(pf.data, pr.data)


def test_a_cleared_unused_gradient_moves_nothing():
    ps = params((3, 3), (3,))
    opt = tn.SGD(ps, lr=0.5, fused=True)
    ps[0].add_grad(np.ones((3, 3)))
    opt.step()  # writes garbage-free: ps[1] never got a gradient
    before = [p.data.copy() for p in ps]
    opt.zero_grad()
    ps[0].add_grad(np.ones((3, 3)))  # ps[1]'s array still holds its (zero) old value; ps[0] used
    ps[1].grad[...] = 7.0  # a stale value written behind the flag's back...
    ps[1].zero_grad()  # ...and cleared: it must read as zero
    opt.step()
    assert np.array_equal(ps[1].data, before[1])
    assert np.allclose(ps[0].data, before[0] - 0.5)


def test_a_parameter_given_new_arrays_is_moved_again_and_still_updated():
    ps = params((2, 3), (3,))
    opt = tn.SGD(ps, lr=1.0, fused=True)
    ps[0].data = np.full((2, 3), 5.0)  # the user replaces the values after making the optimizer
    other = ps[1].data.copy()
    for p in ps:
        p.zero_grad()
        p.add_grad(np.ones(p.shape))
    opt.step()
    assert np.array_equal(ps[0].data, np.full((2, 3), 4.0))
    assert np.array_equal(ps[1].data, other - 1.0)


def test_training_through_fit_matches_the_unfused_optimizer_bit_for_bit():
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    results = []
    for fused in (True, False):
        model = tn.Sequential(tn.Dense(4, 8, rng=0), tn.LeakyReLU(), tn.Dense(8, 3, rng=1))
        opt = tn.SGD(model.parameters(), lr=0.05, fused=fused)
        tn.fit(model, tn.SoftmaxCrossEntropy(), opt, tn.DataLoader(x, y, batch_size=16), 3,
               progress="none")
        results.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def test_a_moved_again_parameter_with_a_cleared_gradient_reads_zero():
    ps = params((2, 2), (2,))
    opt = tn.SGD(ps, lr=1.0, fused=True)
    ps[1].grad[...] = 5.0  # stale numbers behind the flag...
    ps[1].zero_grad()  # ...cleared
    ps[0].data = np.zeros((2, 2))  # forces a move at the next step
    ps[0].add_grad(np.ones((2, 2)))
    before = ps[1].data.copy()
    opt.step()
    assert np.array_equal(ps[1].data, before)
    assert np.array_equal(ps[0].data, -np.ones((2, 2)))
