"""Adam and AdamW: the rules in PyTorch's documentation, written out independently below;
torch.optim.Adam / AdamW themselves; and the fused (BLAS) update against the numpy reference."""

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
from tinynet.optim import adam_step


def reference_adam(lr, betas, eps, weight_decay, decoupled):
    """torch.optim.Adam's and AdamW's pseudo-code, array by array."""
    beta1, beta2 = betas
    thetas = initial_params()
    m = [np.zeros_like(x) for x in thetas]
    v = [np.zeros_like(x) for x in thetas]
    trajectory = []
    for t in range(1, STEPS + 1):
        new = []
        for i, theta in enumerate(thetas):
            g = gradient(theta, t, i)
            if decoupled:  # AdamW: theta_t <- theta_{t-1} - lr * lambda * theta_{t-1}
                theta = theta - lr * weight_decay * theta
            elif weight_decay != 0:  # Adam: g_t <- g_t + lambda * theta_{t-1}
                g = g + weight_decay * theta
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g**2
            m_hat = m[i] / (1 - beta1**t)
            v_hat = v[i] / (1 - beta2**t)
            new.append(theta - lr * m_hat / (np.sqrt(v_hat) + eps))
        thetas = new
        trajectory.append(thetas)
    return trajectory


ADAM_CASES = {
    "adam-defaults": (tn.Adam, dict(), dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)),
    "adam-custom": (tn.Adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
                    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.0)),
    "adam-l2": (tn.Adam, dict(lr=0.02, weight_decay=0.1),
                dict(lr=0.02, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
    "adamw-defaults": (tn.AdamW, dict(), dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)),
    "adamw-custom": (tn.AdamW, dict(lr=0.05, betas=(0.5, 0.9), eps=1e-7, weight_decay=0.3),
                     dict(lr=0.05, betas=(0.5, 0.9), eps=1e-7, weight_decay=0.3)),
}


@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_trajectory_matches_pytorch_rule(case, fused):
    cls, kwargs, rule = ADAM_CASES[case]
    assert_same_trajectory(run_tinynet(lambda ps: cls(ps, **kwargs, fused=fused)),
                           reference_adam(decoupled=cls is tn.AdamW, **rule))


@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("case", ["adam-custom", "adam-l2", "adamw-defaults", "adamw-custom"])
def test_adam_matches_torch_optim(case, fused):
    pytest.importorskip("torch")
    cls, kwargs, _ = ADAM_CASES[case]
    assert_same_trajectory(run_tinynet(lambda ps: cls(ps, **kwargs, fused=fused), shapes=BIG),
                           run_torch(cls.__name__, kwargs, shapes=BIG))


@needs_blas
@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_fused_adam_agrees_with_the_numpy_reference(case):
    cls, kwargs, _ = ADAM_CASES[case]
    reference = run_tinynet(lambda ps: cls(ps, **kwargs, fused=False), shapes=BIG)
    fused = run_tinynet(lambda ps: cls(ps, **kwargs, fused=True), shapes=BIG)
    assert_same_trajectory(fused, reference)
    single = run_tinynet(lambda ps: cls(ps, **kwargs, fused=True), dtype=np.float32, shapes=BIG)
    assert_same_trajectory(single, reference, atol=1e-5, rtol=1e-4)


def test_adam_and_adamw_differ_only_through_weight_decay():
    adam = run_tinynet(lambda ps: tn.Adam(ps, lr=0.05))
    adamw = run_tinynet(lambda ps: tn.AdamW(ps, lr=0.05, weight_decay=0))
    assert_same_trajectory(adam, adamw)
    decayed = run_tinynet(lambda ps: tn.AdamW(ps, lr=0.05, weight_decay=0.5))
    assert not np.allclose(decayed[-1][0], adam[-1][0])


def test_adam_step_is_the_rule_on_one_array_and_keeps_float32():
    param = np.zeros(3, np.float32)
    grad = np.array([1.0, -2.0, 0.5], np.float32)
    exp_avg, exp_avg_sq = np.zeros_like(param), np.zeros_like(param)
    adam_step(param, grad, exp_avg, exp_avg_sq, step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    assert param.dtype == exp_avg.dtype == exp_avg_sq.dtype == np.float32
    np.testing.assert_allclose(exp_avg, 0.1 * grad, rtol=1e-6)
    np.testing.assert_allclose(exp_avg_sq, 0.001 * grad**2, rtol=1e-6)
    np.testing.assert_allclose(param, -0.1 * np.sign(grad), rtol=1e-6)  # the first step is -lr sign(g)


def test_state_is_per_parameter_and_updates_in_place():
    params = [tn.Parameter(np.zeros(2), "a"), tn.Parameter(np.zeros(3), "b")]
    data = [p.data for p in params]
    opt = tn.Adam(params, lr=0.1)
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step()
    assert [s["exp_avg"].shape for s in opt.state] == [(2,), (3,)]
    assert all(p.data is d for p, d in zip(params, data))
    np.testing.assert_allclose(params[0].data, -0.1, rtol=1e-6)  # first Adam step is ~ -lr * sign(g)


def test_adam_repr_shows_its_hyper_parameters_and_the_update_that_runs():
    params = [tn.Parameter(np.zeros(2))]
    assert repr(tn.AdamW(params, fused=False)) == \
        "AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, fused=False)"


def test_bad_betas():
    with pytest.raises(TypeError, match=r"betas must be a pair"):
        tn.Adam([tn.Parameter(np.zeros(2))], betas=0.9)
