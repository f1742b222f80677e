"""SGD (momentum, dampening, nesterov, weight decay), Adam and AdamW against the update
rules in PyTorch's documentation, written out independently below (issue 4, Must show 2)."""

import math

import numpy as np
import pytest

import tinynet as tn

STEPS = 20


def gradient(theta: np.ndarray, t: int, index: int) -> np.ndarray:
    """A deterministic gradient that depends on the parameter and the step (a bumpy bowl
    plus a step-dependent drift), so trajectories differ whenever an update rule does."""
    drift = np.sin(np.arange(theta.size).reshape(theta.shape) * 0.7 + t + index)
    return 0.5 * theta + 0.3 * np.sin(3 * theta) + drift


def initial_params() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.standard_normal((3, 4)), rng.standard_normal(4)]


def run_tinynet(make_optimizer, dtype=np.float64) -> list[list[np.ndarray]]:
    params = [tn.Parameter(p.astype(dtype), name) for p, name in zip(initial_params(), "wb")]
    opt = make_optimizer(params)
    trajectory = []
    for t in range(1, STEPS + 1):
        for index, p in enumerate(params):
            p.grad = gradient(p.data, t, index).astype(dtype)
        opt.step()
        trajectory.append([p.data.copy() for p in params])
    return trajectory


# -- reference rules, from the pseudo-code of torch.optim.SGD / Adam / AdamW ---------------

def reference_sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
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


def reference_adam(lr, betas, eps, weight_decay, decoupled):
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


def assert_same_trajectory(got, want):
    for step, (g_params, w_params) in enumerate(zip(got, want), 1):
        for g, w in zip(g_params, w_params):
            np.testing.assert_allclose(g, w, rtol=0, atol=1e-12, err_msg=f"step {step}")
    assert len(got) == len(want) == STEPS


SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.05, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.8, dampening=0.3),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.01),
    "all": dict(lr=0.03, momentum=0.7, nesterov=True, weight_decay=0.05),
}


@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_trajectory_matches_pytorch_rule(case):
    kwargs = SGD_CASES[case]
    assert_same_trajectory(run_tinynet(lambda ps: tn.SGD(ps, **kwargs)), reference_sgd(**kwargs))


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


@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_trajectory_matches_pytorch_rule(case):
    cls, kwargs, rule = ADAM_CASES[case]
    decoupled = cls is tn.AdamW
    assert_same_trajectory(run_tinynet(lambda ps: cls(ps, **kwargs)),
                           reference_adam(decoupled=decoupled, **rule))


def test_adam_and_adamw_differ_only_through_weight_decay():
    adam = run_tinynet(lambda ps: tn.Adam(ps, lr=0.05))
    adamw = run_tinynet(lambda ps: tn.AdamW(ps, lr=0.05, weight_decay=0))
    assert_same_trajectory(adam, adamw)
    decayed = run_tinynet(lambda ps: tn.AdamW(ps, lr=0.05, weight_decay=0.5))
    assert not np.allclose(decayed[-1][0], adam[-1][0])


@pytest.mark.parametrize("make", [
    lambda ps: tn.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda ps: tn.Adam(ps, lr=0.01, weight_decay=0.1),
    lambda ps: tn.AdamW(ps, lr=0.01),
], ids=["sgd", "adam", "adamw"])
def test_float32_parameters_state_and_updates(make):
    trajectory = run_tinynet(make, dtype=np.float32)
    assert all(p.dtype == np.float32 for step in trajectory for p in step)
    params = [tn.Parameter(np.ones(3, np.float32))]
    opt = make(params)
    params[0].grad = np.full(3, 0.5, np.float32)
    opt.step()
    assert params[0].data.dtype == np.float32
    assert all(a.dtype == np.float32 for state in opt.state for a in state.values())
    reference = run_tinynet(make)  # float32 follows the float64 trajectory to float32 precision
    np.testing.assert_allclose(trajectory[-1][0], reference[-1][0], rtol=1e-4, atol=1e-5)


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


@pytest.mark.parametrize("make, message", [
    (lambda ps: tn.Adam(ps, lr=-0.1), "lr must be a finite number > 0, got -0.1"),
    (lambda ps: tn.AdamW(ps, lr=math.nan), "lr must be a finite number, got nan"),
    (lambda ps: tn.Adam(ps, betas=(1.0, 0.999)), "betas[0] must be a finite number >= 0 and < 1, got 1.0"),
    (lambda ps: tn.Adam(ps, betas=(0.9, -0.1)), "betas[1] must be a finite number >= 0 and < 1, got -0.1"),
    (lambda ps: tn.Adam(ps, eps=0), "eps must be a finite number > 0, got 0"),
    (lambda ps: tn.AdamW(ps, weight_decay=-1), "weight_decay must be a finite number >= 0, got -1"),
    (lambda ps: tn.SGD(ps, lr=0.1, momentum=-0.5), "momentum must be a finite number >= 0, got -0.5"),
    (lambda ps: tn.SGD(ps, lr=0.1, dampening=2), "dampening must be a finite number >= 0 and <= 1, got 2"),
    (lambda ps: tn.SGD(ps, lr=0.1, nesterov=True), "nesterov=True requires momentum > 0"),
])
def test_hyper_parameters_are_validated_in_init(make, message):
    with pytest.raises(ValueError) as err:
        make([tn.Parameter(np.zeros(2))])
    assert message in str(err.value)


def test_bad_betas_and_params():
    with pytest.raises(TypeError, match=r"betas must be a pair"):
        tn.Adam([tn.Parameter(np.zeros(2))], betas=0.9)
    with pytest.raises(ValueError, match="params is empty"):
        tn.AdamW([])
    with pytest.raises(TypeError, match=r"params\[0\] must be a tinynet.Parameter"):
        tn.Adam([np.zeros(2)])


def test_matches_torch_when_installed():
    """Optional cross-check against torch.optim itself (skipped without torch)."""
    torch = pytest.importorskip("torch")
    for cls, kwargs in [(tn.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
                        (tn.Adam, dict(lr=0.02, weight_decay=0.1)), (tn.AdamW, dict(lr=0.05))]:
        ours = run_tinynet(lambda ps, cls=cls, kwargs=kwargs: cls(ps, **kwargs))
        tensors = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in initial_params()]
        opt = getattr(torch.optim, cls.__name__)(tensors, **kwargs)
        for t in range(1, STEPS + 1):
            for index, tensor in enumerate(tensors):
                tensor.grad = torch.tensor(gradient(tensor.detach().numpy(), t, index))
            opt.step()
            for got, tensor in zip(ours[t - 1], tensors):
                np.testing.assert_allclose(got, tensor.detach().numpy(), rtol=0, atol=1e-12)
