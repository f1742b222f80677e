"""Adagrad: the rule in PyTorch's documentation, written out independently below;
torch.optim.Adagrad itself; and the fused (BLAS) update against the numpy reference."""

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
from tinynet.optim import adagrad_step


def reference_adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    """torch.optim.Adagrad's pseudo-code, array by array."""
    thetas = initial_params()
    state_sum = [np.full_like(x, initial_accumulator_value) for x in thetas]
    trajectory = []
    for t in range(1, STEPS + 1):
        new = []
        for i, theta in enumerate(thetas):
            g = gradient(theta, t, i)
            gamma = lr / (1 + (t - 1) * lr_decay)
            if weight_decay != 0:
                g = g + weight_decay * theta
            state_sum[i] = state_sum[i] + g**2
            new.append(theta - gamma * g / (np.sqrt(state_sum[i]) + eps))
        thetas = new
        trajectory.append(thetas)
    return trajectory


CASES = {
    "defaults": dict(),
    "custom": dict(lr=0.1, eps=1e-6),
    "lr-decay": dict(lr=0.1, lr_decay=0.05),
    "l2": dict(lr=0.05, weight_decay=0.1),
    "initial-accumulator": dict(lr=0.1, initial_accumulator_value=0.5),
    "everything": dict(lr=0.2, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.1, eps=1e-8),
}


@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("case", list(CASES))
def test_adagrad_trajectory_matches_pytorch_rule(case, fused):
    kwargs = CASES[case]
    assert_same_trajectory(run_tinynet(lambda ps: tn.Adagrad(ps, **kwargs, fused=fused)),
                           reference_adagrad(**kwargs))


@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("case", list(CASES))
def test_adagrad_matches_torch_optim(case, fused):
    pytest.importorskip("torch")
    kwargs = CASES[case]
    assert_same_trajectory(run_tinynet(lambda ps: tn.Adagrad(ps, **kwargs, fused=fused), shapes=BIG),
                           run_torch("Adagrad", kwargs, shapes=BIG))


@needs_blas
@pytest.mark.parametrize("case", list(CASES))
def test_fused_adagrad_agrees_with_the_numpy_reference(case):
    kwargs = CASES[case]
    reference = run_tinynet(lambda ps: tn.Adagrad(ps, **kwargs, fused=False), shapes=BIG)
    assert_same_trajectory(run_tinynet(lambda ps: tn.Adagrad(ps, **kwargs, fused=True), shapes=BIG),
                           reference)
    single = run_tinynet(lambda ps: tn.Adagrad(ps, **kwargs, fused=True), dtype=np.float32, shapes=BIG)
    assert_same_trajectory(single, reference, atol=1e-5, rtol=1e-4)


def test_adagrad_step_is_the_rule_on_one_array_and_keeps_float32():
    param = np.zeros(3, np.float32)
    grad = np.array([1.0, -2.0, 0.5], np.float32)
    state_sum = np.full_like(param, 1.0)
    adagrad_step(param, grad, state_sum, step=3, lr=0.1, lr_decay=0.5)
    assert param.dtype == state_sum.dtype == np.float32
    np.testing.assert_allclose(state_sum, 1 + grad**2, rtol=1e-6)
    np.testing.assert_allclose(param, -0.1 / 2 * grad / np.sqrt(1 + grad**2), rtol=1e-5)


def test_the_sums_start_at_the_initial_accumulator_value():
    params = [tn.Parameter(np.zeros(2), "a"), tn.Parameter(np.zeros((2, 3)), "b")]
    opt = tn.Adagrad(params, initial_accumulator_value=0.25)
    assert [s["sum"].shape for s in opt.state] == [(2,), (2, 3)]
    assert all(np.all(s["sum"] == 0.25) for s in opt.state)


def test_adagrad_repr_and_bad_arguments():
    params = [tn.Parameter(np.zeros(2))]
    assert repr(tn.Adagrad(params, lr_decay=0.1, fused=False)) == \
        "Adagrad(lr=0.01, lr_decay=0.1, eps=1e-10, fused=False)"
    with pytest.raises(ValueError, match=r"lr_decay must be a finite number >= 0, got -1"):
        tn.Adagrad(params, lr_decay=-1)
    with pytest.raises(ValueError, match=r"initial_accumulator_value must be a finite number >= 0"):
        tn.Adagrad(params, initial_accumulator_value=-0.5)
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0, got 0"):
        tn.Adagrad(params, eps=0)
