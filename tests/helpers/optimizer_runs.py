"""Optimizer trajectories shared by the optimizer tests: tinynet's, PyTorch's, and a
comparison that names the step where two part."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinynet as tn
from tinynet.engine import blas
from tinynet.engine.blas import BLAS_MIN_SIZE

STEPS = 20
SMALL = [(3, 4), (4,)]
# A weight past BLAS_MIN_SIZE, not a whole number of vector blocks, so that the fused update
# really runs through BLAS (with a scalar tail), and a bias small enough to stay with numpy.
BIG = [(96, BLAS_MIN_SIZE // 96 + 5), (BLAS_MIN_SIZE // 96 + 5,)]
Trajectory = list[list[np.ndarray]]


def gradient(theta: np.ndarray, t: int, index: int) -> np.ndarray:
    """A deterministic gradient that depends on the parameter and the step (a bumpy bowl
    plus a step-dependent drift), so trajectories differ whenever an update rule does."""
    drift = np.sin(np.arange(theta.size).reshape(theta.shape) * 0.7 + t + index)
    return 0.5 * theta + 0.3 * np.sin(3 * theta) + drift


def initial_params(shapes: list[tuple[int, ...]] = SMALL) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.standard_normal(shape) for shape in shapes]


def run_tinynet(make_optimizer: Callable[[list[tn.Parameter]], Any], dtype: Any = np.float64,
                shapes: list[tuple[int, ...]] = SMALL) -> Trajectory:
    """The parameters after each of ``STEPS`` steps of ``make_optimizer(params)``."""
    params = [tn.Parameter(p.astype(dtype), name) for p, name in zip(initial_params(shapes), "wb")]
    opt = make_optimizer(params)
    trajectory = []
    for t in range(1, STEPS + 1):
        for index, p in enumerate(params):
            p.grad = gradient(p.data, t, index).astype(dtype)
        opt.step()
        trajectory.append([p.data.copy() for p in params])
    return trajectory


def run_torch(name: str, kwargs: dict[str, Any], shapes: list[tuple[int, ...]] = SMALL) -> Trajectory:
    """The same as :func:`run_tinynet` with ``torch.optim.<name>(**kwargs)`` on float64 tensors."""
    import torch

    tensors = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in initial_params(shapes)]
    opt = getattr(torch.optim, name)(tensors, **kwargs)
    trajectory = []
    for t in range(1, STEPS + 1):
        for index, tensor in enumerate(tensors):
            tensor.grad = torch.tensor(gradient(tensor.detach().numpy(), t, index))
        opt.step()
        trajectory.append([tensor.detach().numpy().copy() for tensor in tensors])
    return trajectory


def assert_same_trajectory(got: Trajectory, want: Trajectory, atol: float = 1e-12, rtol: float = 0) -> None:
    assert len(got) == len(want) == STEPS
    for step, (g_params, w_params) in enumerate(zip(got, want), 1):
        for index, (g, w) in enumerate(zip(g_params, w_params)):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"step {step}, params[{index}]")


needs_blas = pytest.mark.skipif(blas.unavailable_reason() is not None,
                                reason=f"no BLAS update here: {blas.unavailable_reason()}")
