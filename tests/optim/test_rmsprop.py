"""RMSprop: the rule in PyTorch's documentation, written out independently below;
torch.optim.RMSprop itself; and the fused (BLAS) update against the numpy reference."""

import numpy as np
import pytest
from helpers.optimizer_runs import (
    BIG,
    STEPS,
    assert_same_trajectory,
    gradient,
    initial_params,
    needs_blas,
    run_tinynet,
    run_torch,
)

import tinynet as tn
from tinynet.optim import rmsprop_step


def reference_rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    """torch.optim.RMSprop's pseudo-code, array by array."""
    thetas = initial_params()
    v = [np.zeros_like(x) for x in thetas]
    g_ave = [np.zeros_like(x) for x in thetas]
    b = [np.zeros_like(x) for x in thetas]
    trajectory = []
    for t in range(1, STEPS + 1):
        new = []
        for i, theta in enumerate(thetas):
            g = gradient(theta, t, i)
            if weight_decay != 0:
                g = g + weight_decay * theta
            v[i] = alpha * v[i] + (1 - alpha) * g**2
            v_tilde = v[i]
            if centered:
                g_ave[i] = g_ave[i] * alpha + (1 - alpha) * g
                v_tilde = v_tilde - g_ave[i] ** 2
            if momentum > 0:
                b[i] = momentum * b[i] + g / (np.sqrt(v_tilde) + eps)
                new.append(theta - lr * b[i])
            else:
                new.append(theta - lr * g / (np.sqrt(v_tilde) + eps))
        thetas = new
        trajectory.append(thetas)
    return trajectory


CASES = {
    "defaults": dict(),
    "custom": dict(lr=0.03, alpha=0.9, eps=1e-6),
    "l2": dict(lr=0.01, weight_decay=0.1),
    "momentum": dict(lr=0.01, momentum=0.9),
    "centered": dict(lr=0.01, alpha=0.95, centered=True),
    "everything": dict(lr=0.005, alpha=0.8, eps=1e-7, weight_decay=0.05, momentum=0.5, centered=True),
}


@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("case", list(CASES))
def test_rmsprop_trajectory_matches_pytorch_rule(case, fused):
    kwargs = CASES[case]
    assert_same_trajectory(run_tinynet(lambda ps: tn.RMSprop(ps, **kwargs, fused=fused)),
                           reference_rmsprop(**kwargs))


@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("case", list(CASES))
def test_rmsprop_matches_torch_optim(case, fused):
    pytest.importorskip("torch")
    kwargs = CASES[case]
    assert_same_trajectory(run_tinynet(lambda ps: tn.RMSprop(ps, **kwargs, fused=fused), shapes=BIG),
                           run_torch("RMSprop", kwargs, shapes=BIG))


@needs_blas
@pytest.mark.parametrize("case", list(CASES))
def test_fused_rmsprop_agrees_with_the_numpy_reference(case):
    kwargs = CASES[case]
    reference = run_tinynet(lambda ps: tn.RMSprop(ps, **kwargs, fused=False), shapes=BIG)
    assert_same_trajectory(run_tinynet(lambda ps: tn.RMSprop(ps, **kwargs, fused=True), shapes=BIG),
                           reference)
    single = run_tinynet(lambda ps: tn.RMSprop(ps, **kwargs, fused=True), dtype=np.float32, shapes=BIG)
    assert_same_trajectory(single, reference, atol=1e-5, rtol=1e-4)


def test_rmsprop_step_is_the_rule_on_one_array_and_keeps_float32():
    param = np.zeros(3, np.float32)
    grad = np.array([1.0, -2.0, 0.5], np.float32)
    square_avg = np.zeros_like(param)
    rmsprop_step(param, grad, square_avg, lr=0.1, alpha=0.9, eps=0.0 + 1e-12)
    assert param.dtype == square_avg.dtype == np.float32
    np.testing.assert_allclose(square_avg, 0.1 * grad**2, rtol=1e-6)
    np.testing.assert_allclose(param, -0.1 * np.sign(grad) / np.sqrt(0.1), rtol=1e-5)


def test_state_follows_the_options():
    params = [tn.Parameter(np.zeros(2), "a"), tn.Parameter(np.zeros(3), "b")]
    for options, keys in ((dict(), {"square_avg"}), (dict(centered=True), {"square_avg", "grad_avg"}),
                          (dict(momentum=0.9), {"square_avg", "momentum_buffer"})):
        opt = tn.RMSprop(params, **options)
        for p in params:
            p.grad = np.ones_like(p.data)
        opt.step()
        assert [set(s) for s in opt.state] == [keys, keys]
        assert [s["square_avg"].shape for s in opt.state] == [(2,), (3,)]


def test_rmsprop_repr_and_bad_arguments():
    params = [tn.Parameter(np.zeros(2))]
    assert repr(tn.RMSprop(params, momentum=0.9, centered=True, fused=False)) == \
        "RMSprop(lr=0.01, alpha=0.99, eps=1e-08, momentum=0.9, centered=True, fused=False)"
    with pytest.raises(ValueError, match=r"alpha must be a finite number >= 0 and <= 1, got 1.5"):
        tn.RMSprop(params, alpha=1.5)
    with pytest.raises(ValueError, match=r"momentum must be a finite number >= 0, got -0.1"):
        tn.RMSprop(params, momentum=-0.1)
    with pytest.raises(TypeError, match=r"centered must be True or False, got 'yes'"):
        tn.RMSprop(params, centered="yes")


def test_rmsprop_trains_a_model_with_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    y = (x @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)
    model = tn.Sequential(tn.Dense(3, 8, rng=1), tn.Tanh(), tn.Dense(8, 2, rng=2))
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.RMSprop(model.parameters(), lr=0.01),
                     tn.DataLoader(x, y, batch_size=16, shuffle=True, rng=3), 30, progress="none")
    assert history.loss[-1] < 0.3 * history.loss[0]
