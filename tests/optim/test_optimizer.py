"""What every optimizer shares: argument checks, the ``fused`` switch, float32 state,
``zero_grad``, and one tuned BLAS update per parameter and kind of update."""

import math

import numpy as np
import pytest
from helpers.optimizer_runs import BIG, run_tinynet

import tinynet as tn
import tinynet.optim.optimizer
from tinynet.engine import blas

OPTIMIZERS = [
    pytest.param(lambda ps, **kw: tn.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, **kw),
                 id="sgd"),
    pytest.param(lambda ps, **kw: tn.Adam(ps, lr=0.01, weight_decay=0.1, **kw), id="adam"),
    pytest.param(lambda ps, **kw: tn.AdamW(ps, lr=0.01, **kw), id="adamw"),
]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_fused_none_takes_blas_exactly_when_it_is_usable(make):
    optimizer = make([tn.Parameter(np.zeros(3, np.float32))])
    assert optimizer.fused is (blas.unavailable_reason(np.float32) is None)
    assert make([tn.Parameter(np.zeros(3))], fused=False).fused is False
    assert make([tn.Parameter(np.zeros(3, np.float16))]).fused is False  # no half-precision axpy
    assert f"fused={optimizer.fused}" in repr(optimizer)


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_fused_true_says_why_blas_is_unavailable(make, monkeypatch):
    monkeypatch.setattr(tinynet.optim.optimizer, "unavailable_reason",
                        lambda dtype=None: "TINYNET_NO_BLAS_AXPY is set in the environment")
    with pytest.raises(RuntimeError) as err:
        make([tn.Parameter(np.zeros(3))], fused=True)
    message = str(err.value)
    assert "fused=True" in message and "params[0] (float64)" in message
    assert "TINYNET_NO_BLAS_AXPY is set" in message and "fused=False" in message
    assert make([tn.Parameter(np.zeros(3))]).fused is False  # None falls back quietly


def test_fused_true_refuses_a_dtype_blas_has_no_kernel_for():
    with pytest.raises(RuntimeError, match=r"params\[1\] \(float16\).*float32 and float64, not float16"):
        tn.SGD([tn.Parameter(np.zeros(3)), tn.Parameter(np.zeros(3, np.float16))], fused=True)


@pytest.mark.parametrize("fused", ["yes", 1, 0.0])
def test_fused_must_be_a_bool_or_none(fused):
    with pytest.raises(TypeError, match=rf"SGD: fused must be True, False or None, got {fused!r}"):
        tn.SGD([tn.Parameter(np.zeros(3))], fused=fused)


@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("make", OPTIMIZERS)
def test_float32_parameters_state_and_updates(make, fused):
    trajectory = run_tinynet(lambda ps: make(ps, fused=fused), dtype=np.float32)
    assert all(p.dtype == np.float32 for step in trajectory for p in step)
    params = [tn.Parameter(np.ones(3, np.float32)), tn.Parameter(np.ones(BIG[0], np.float32))]
    opt = make(params, fused=fused)
    for p in params:
        p.grad = np.full(p.data.shape, 0.5, np.float32)
    opt.step()
    assert all(p.data.dtype == np.float32 for p in params)
    assert all(a.dtype == np.float32 for state in opt.state for a in state.values())
    reference = run_tinynet(make)  # float32 follows the float64 trajectory to float32 precision
    np.testing.assert_allclose(trajectory[-1][0], reference[-1][0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make, message", [
    (lambda ps: tn.Adam(ps, lr=-0.1), "lr must be a finite number > 0, got -0.1"),
    (lambda ps: tn.AdamW(ps, lr=math.nan), "lr must be a finite number, got nan"),
    (lambda ps: tn.Adam(ps, betas=(1.0, 0.999)), "betas[0] must be a finite number >= 0 and < 1, got 1.0"),
    (lambda ps: tn.Adam(ps, betas=(0.9, -0.1)), "betas[1] must be a finite number >= 0 and < 1, got -0.1"),
    (lambda ps: tn.Adam(ps, eps=0), "eps must be a finite number > 0, got 0"),
    (lambda ps: tn.AdamW(ps, weight_decay=-1), "weight_decay must be a finite number >= 0, got -1"),
    (lambda ps: tn.SGD(ps, lr=0.1, momentum=-0.5),
     "momentum must be a finite number >= 0 and <= 1, got -0.5"),
    (lambda ps: tn.SGD(ps, lr=0.1, dampening=2), "dampening must be a finite number >= 0 and <= 1, got 2"),
    (lambda ps: tn.SGD(ps, lr=0.1, nesterov=True), "nesterov=True requires momentum > 0"),
])
def test_hyper_parameters_are_validated_in_init(make, message):
    with pytest.raises(ValueError) as err:
        make([tn.Parameter(np.zeros(2))])
    assert message in str(err.value)


def test_bad_params():
    with pytest.raises(ValueError, match="params is empty"):
        tn.AdamW([])
    with pytest.raises(TypeError, match=r"params\[0\] must be a tinynet.Parameter"):
        tn.Adam([np.zeros(2)])


def test_zero_grad_clears_every_gradient():
    params = [tn.Parameter(np.zeros(2)), tn.Parameter(np.zeros(3))]
    for p in params:
        p.grad = np.ones_like(p.data)
    tn.SGD(params).zero_grad()
    assert all(not p.grad.any() for p in params)


def test_the_optimizers_are_found_by_name():
    from tinynet import registry

    assert {"sgd", "adam", "adamw"} <= set(registry.optimizers())
    assert registry.lookup("optimizers", "adamw") is tn.AdamW


@pytest.mark.skipif(blas.unavailable_reason() is not None, reason="no BLAS update here")
def test_each_kind_of_update_has_its_own_tuner():
    """A tuner compares one update with itself, threads against none: never the weight
    update on threads against the moment update without."""
    params = [tn.Parameter(np.zeros(BIG[0])) for _ in range(2)]
    sgd = tn.SGD(params, lr=0.1, momentum=0.9)
    adam = tn.Adam(params)
    for optimizer, other in ((sgd, sgd._update_buffer), (adam, adam._update_exp_avg)):
        tuners = [*optimizer._update_param, *other]
        assert len({id(t) for t in tuners}) == 4
        for p in params:
            p.grad[...] = 1.0
        for _ in range(2 * blas.TunedAxpy.TRIALS + 1):  # SGD's buffer starts as a copy
            optimizer.step()
        assert all(isinstance(t.threaded, bool) for t in tuners)
    assert tn.SGD(params, fused=False)._update_param == [None, None]  # the reference path holds no tuners
    small = [tn.Parameter(np.zeros(3))]
    assert tn.SGD(small)._update_param == [None]  # too small for BLAS: numpy's update, no tuner
