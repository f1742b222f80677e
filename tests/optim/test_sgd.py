"""SGD (momentum, dampening, nesterov, weight decay): the rule in PyTorch's documentation,
written out independently below; torch.optim.SGD itself; and the fused (BLAS) update
against the numpy reference."""

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
from tinynet.optim import sgd_step


def reference_sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """torch.optim.SGD's pseudo-code, array by array."""
    thetas = initial_params()
    buffers = [None] * len(thetas)
    trajectory = []
    for t in range(1, STEPS + 1):
        new = []
        for i, theta in enumerate(thetas):
            g = gradient(theta, t, i)
            if weight_decay != 0:
                g = g + weight_decay * theta
            if momentum != 0:
                if t > 1:
                    buffers[i] = momentum * buffers[i] + (1 - dampening) * g
                else:
                    buffers[i] = g
                if nesterov:
                    g = g + momentum * buffers[i]
                else:
                    g = buffers[i]
            new.append(theta - lr * g)
        thetas = new
        trajectory.append(thetas)
    return trajectory


SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.05, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.8, dampening=0.3),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.01),
    "all": dict(lr=0.03, momentum=0.7, nesterov=True, weight_decay=0.05),
}


@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_trajectory_matches_pytorch_rule(case, fused):
    kwargs = SGD_CASES[case]
    assert_same_trajectory(run_tinynet(lambda ps: tn.SGD(ps, **kwargs, fused=fused)), reference_sgd(**kwargs))


@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("case", ["momentum", "dampening", "nesterov", "all"])
def test_sgd_matches_torch_optim_sgd(case, fused):
    pytest.importorskip("torch")
    kwargs = SGD_CASES[case]
    assert_same_trajectory(run_tinynet(lambda ps: tn.SGD(ps, **kwargs, fused=fused), shapes=BIG),
                           run_torch("SGD", kwargs, shapes=BIG))


@needs_blas
@pytest.mark.parametrize("case", list(SGD_CASES))
def test_fused_sgd_agrees_with_the_numpy_reference(case):
    kwargs = SGD_CASES[case]
    reference = run_tinynet(lambda ps: tn.SGD(ps, **kwargs, fused=False), shapes=BIG)
    fused = run_tinynet(lambda ps: tn.SGD(ps, **kwargs, fused=True), shapes=BIG)
    assert_same_trajectory(fused, reference)
    single = run_tinynet(lambda ps: tn.SGD(ps, **kwargs, fused=True), dtype=np.float32, shapes=BIG)
    assert_same_trajectory(single, reference, atol=1e-5, rtol=1e-5)


def test_sgd_step_is_the_rule_on_one_array_and_keeps_float32():
    param = np.ones(3, np.float32)
    grad = np.array([1.0, 2.0, 3.0], np.float32)
    assert sgd_step(param, grad, None, lr=0.1) is None
    np.testing.assert_allclose(param, [0.9, 0.8, 0.7], rtol=1e-6)
    buffer = sgd_step(param, grad, None, lr=0.1, momentum=0.9)
    assert buffer is not grad and param.dtype == buffer.dtype == np.float32
    again = sgd_step(param, grad, buffer, lr=0.1, momentum=0.9, dampening=0.5)
    assert again is buffer  # updated in place
    np.testing.assert_allclose(buffer, 1.4 * grad, rtol=1e-6)  # 0.9 b + 0.5 g with b = g


def test_sgd_with_full_dampening_spreads_nan_like_numpy():
    """dampening=1 asks for a zero multiple of the gradient: 0 * inf is NaN either way."""
    for fused in (False, None):
        p = tn.Parameter(np.ones(BIG[0]))
        opt = tn.SGD([p], lr=0.1, momentum=0.5, dampening=1.0, fused=fused)
        p.grad = np.ones(BIG[0])
        opt.step()
        p.grad = np.full(BIG[0], np.inf)
        with np.errstate(invalid="ignore"):
            opt.step()
        assert np.isnan(opt.state[0]["momentum_buffer"]).all(), fused


def test_sgd_repr_shows_its_hyper_parameters_and_the_update_that_runs():
    params = [tn.Parameter(np.zeros(2))]
    assert repr(tn.SGD(params, lr=0.1, fused=False)) == "SGD(lr=0.1, fused=False)"
    assert repr(tn.SGD(params, lr=0.1, momentum=0.9, nesterov=True, fused=False)) == \
        "SGD(lr=0.1, momentum=0.9, nesterov=True, fused=False)"
