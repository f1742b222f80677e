"""Adam and AdamW: PyTorch's rules and argument names.

:func:`adam_step` is the readable single-parameter update in plain numpy (the
reference, and what ``fused=False`` runs); :class:`Adam` and :class:`AdamW` apply it
to every parameter, or the same rule with one scratch array and its two
``y += alpha * x`` updates made in one BLAS pass each (``fused``, see
:class:`tinynet.optim.Optimizer`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinynet.engine.blas import TunedAxpy
from tinynet.engine.checks import check_number
from tinynet.engine.types import Array
from tinynet.layers.parameter import Parameter
from tinynet.optim.optimizer import Optimizer

__all__ = ["Adam", "AdamW", "adam_step"]


def adam_step(
    param: Array,
    grad: Array,
    exp_avg: Array,
    exp_avg_sq: Array,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
) -> None:
    """One Adam (or AdamW, with ``decoupled_weight_decay``) update, all arrays in place.

    Shapes: ``param``, ``grad``, ``exp_avg`` and ``exp_avg_sq`` the same, any shape, one
    float dtype; the moments start at zero. ``step`` counts from 1. The rule, PyTorch's::

        param = param * (1 - lr * weight_decay)   (AdamW), or
        g = grad + weight_decay * param           (Adam's L2 penalty)
        m = beta1 * m + (1 - beta1) * g           exp_avg
        v = beta2 * v + (1 - beta2) * g**2        exp_avg_sq
        param = param - lr / (1 - beta1**step) * m / (sqrt(v) / sqrt(1 - beta2**step) + eps)

    which is ``param - lr * m_hat / (sqrt(v_hat) + eps)`` with the bias corrections
    ``m_hat = m / (1 - beta1**step)``, ``v_hat = v / (1 - beta2**step)`` folded into scalars.
    """
    if weight_decay and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
    elif weight_decay:
        grad = grad + weight_decay * param
    exp_avg *= beta1
    exp_avg += (1 - beta1) * grad
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    step_size = lr / (1 - beta1**step)
    denom = np.sqrt(exp_avg_sq) / math.sqrt(1 - beta2**step) + eps
    param -= step_size * exp_avg / denom


def _fused_adam_step(param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, *, step: int,
                     lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                     decoupled_weight_decay: bool, update_param: TunedAxpy,
                     update_exp_avg: TunedAxpy) -> None:
    """:func:`adam_step` with ``m += (1 - beta1) * g`` and the parameter's update in one BLAS
    pass each, and one scratch array for ``g**2``, ``denom`` and ``m / denom``."""
    if weight_decay and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
    elif weight_decay:
        grad = grad + weight_decay * param
    exp_avg *= beta1
    update_exp_avg(1 - beta1, grad, exp_avg)
    scratch = np.multiply(grad, grad, dtype=param.dtype)
    scratch *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch
    denom = np.sqrt(exp_avg_sq, out=scratch)
    denom /= math.sqrt(1 - beta2**step)
    denom += eps
    update = np.divide(exp_avg, denom, out=denom)
    update_param(-lr / (1 - beta1**step), update, param)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with PyTorch's update rule and argument names (:func:`adam_step`).

    Per parameter, at step ``t`` (counting from 1), with ``g = grad``::

        g  = g + weight_decay * w                 (L2 penalty, only if weight_decay)
        m  = beta1 * m + (1 - beta1) * g          state["exp_avg"]
        v  = beta2 * v + (1 - beta2) * g**2       state["exp_avg_sq"]
        m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
        w  = w - lr * m_hat / (sqrt(v_hat) + eps)

    Args:
        params: the parameters to update, e.g. ``model.parameters()``.
        lr: learning rate, ``> 0``.
        betas: ``(beta1, beta2)``, each in ``[0, 1)``: the moments' decay rates.
        eps: ``> 0``, added to ``sqrt(v_hat)``.
        weight_decay: ``>= 0``; Adam adds ``weight_decay * w`` to the gradient, AdamW
            shrinks the weights directly.
        fused: ``None`` (default) the one-pass BLAS update when numpy's OpenBLAS is usable,
            ``False`` numpy's :func:`adam_step`, ``True`` BLAS or a ``RuntimeError`` saying why not.

    State: ``state[i]["exp_avg"]`` and ``state[i]["exp_avg_sq"]``, shaped like ``params[i]``.
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, fused)
        self.betas = _check_betas(betas)
        self.eps = check_number(eps, "eps", low=0, low_open=True)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)
        self._update_param = self._tuned_updates()
        self._update_exp_avg = self._tuned_updates()

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``."""
        self.steps += 1
        (beta1, beta2), step, lr = self.betas, self.steps, self.lr
        eps, decay, decoupled = self.eps, self.weight_decay, self.decoupled_weight_decay
        for index, (p, state) in enumerate(zip(self.params, self.state)):
            if not state:
                state["exp_avg"] = np.zeros_like(p.data)
                state["exp_avg_sq"] = np.zeros_like(p.data)
            if self.fused:
                _fused_adam_step(p.data, p.grad, state["exp_avg"], state["exp_avg_sq"], step=step, lr=lr,
                                 beta1=beta1, beta2=beta2, eps=eps, weight_decay=decay,
                                 decoupled_weight_decay=decoupled, update_param=self._update_param[index],
                                 update_exp_avg=self._update_exp_avg[index])
            else:
                adam_step(p.data, p.grad, state["exp_avg"], state["exp_avg_sq"], step=step, lr=lr,
                          beta1=beta1, beta2=beta2, eps=eps, weight_decay=decay,
                          decoupled_weight_decay=decoupled)

    def extra_repr(self) -> str:
        return f", betas={self.betas}, eps={self.eps}, weight_decay={self.weight_decay}"


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as PyTorch's AdamW.

    The decay shrinks the weights directly instead of entering the gradient,
    so it is not rescaled by ``sqrt(v_hat)``; per step::

        w = w * (1 - lr * weight_decay)
        ...then Adam's update with g = grad (no L2 term)

    Arguments and state as :class:`Adam`; default ``weight_decay=0.01`` (PyTorch's).
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        *,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, fused=fused)


def _check_betas(betas: Any) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
    return (check_number(betas[0], "betas[0]", low=0, high=1, high_open=True),
            check_number(betas[1], "betas[1]", low=0, high=1, high_open=True))
