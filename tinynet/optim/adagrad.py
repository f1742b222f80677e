"""Adagrad with learning-rate decay and weight decay: PyTorch's rule.

:func:`adagrad_step` is the readable single-parameter update in plain numpy (the
reference, and what ``fused=False`` runs); :class:`Adagrad` applies it to every
parameter, or the same rule with one scratch array and the parameter's
``w -= clr * u`` made in one BLAS pass (``fused``, see :class:`tinynet.optim.Optimizer`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet.engine.blas import BLAS_MIN_SIZE, TunedAxpy
from tinynet.engine.checks import check_number
from tinynet.layers.parameter import Parameter
from tinynet.optim.optimizer import Optimizer

__all__ = ["Adagrad", "adagrad_step"]

Array = NDArray[Any]


def adagrad_step(
    param: Array,
    grad: Array,
    state_sum: Array,
    *,
    step: int,
    lr: float,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    eps: float = 1e-10,
) -> None:
    """One Adagrad update of ``param``, in place (``state_sum`` too).

    Shapes: ``param``, ``grad`` and ``state_sum`` the same, any shape, one float dtype;
    ``state_sum`` starts at ``initial_accumulator_value``, ``step`` counts from 1. The
    rule, PyTorch's::

        g   = grad + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        s   = s + g**2                                 state_sum
        param = param - clr * g / (sqrt(s) + eps)
    """
    if weight_decay:
        grad = grad + weight_decay * param
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += grad * grad
    param -= clr * (grad / (np.sqrt(state_sum) + eps))


def _fused_adagrad_step(param: Array, grad: Array, state_sum: Array, *, step: int, lr: float,
                        lr_decay: float, weight_decay: float, eps: float, update_param: TunedAxpy) -> None:
    """:func:`adagrad_step` with one scratch array and ``param -= clr * u`` in one BLAS pass."""
    if weight_decay:
        grad = grad + weight_decay * param
    scratch = np.multiply(grad, grad, dtype=param.dtype)
    state_sum += scratch
    np.sqrt(state_sum, out=scratch)
    scratch += eps
    update = np.divide(grad, scratch, out=scratch)
    update_param(-lr / (1 + (step - 1) * lr_decay), update, param)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011) with PyTorch's update rule and argument names (:func:`adagrad_step`).

    Per parameter, at step ``t`` (counting from 1), with ``g = grad + weight_decay * w``::

        clr = lr / (1 + (t - 1) * lr_decay)
        s   = s + g**2                                 state["sum"], from initial_accumulator_value
        w   = w - clr * g / (sqrt(s) + eps)

    Args:
        params: the parameters to update, e.g. ``model.parameters()``.
        lr: learning rate, ``> 0`` (PyTorch's default 0.01).
        lr_decay: ``>= 0``; the rate at step ``t`` is ``lr / (1 + (t - 1) * lr_decay)``.
        weight_decay: L2 penalty, ``>= 0``.
        initial_accumulator_value: ``>= 0``, where every ``state["sum"]`` starts.
        eps: ``> 0``, added to the denominator.
        fused: ``None`` (default) the one-pass BLAS update when numpy's OpenBLAS is usable,
            ``False`` numpy's :func:`adagrad_step`, ``True`` BLAS or a ``RuntimeError`` saying why not.

    State: ``state[i]["sum"]``, shaped like ``params[i]``.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, fused)
        self.lr_decay = check_number(lr_decay, "lr_decay", low=0)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)
        self.initial_accumulator_value = check_number(initial_accumulator_value,
                                                      "initial_accumulator_value", low=0)
        self.eps = check_number(eps, "eps", low=0, low_open=True)
        for p, state in zip(self.params, self.state):  # PyTorch fills the sums when it is built
            state["sum"] = np.full_like(p.data, self.initial_accumulator_value)
        # Per parameter, its BLAS update, or None where numpy's runs (not fused, or too small to pay).
        self._update_param = [TunedAxpy() if self.fused and p.size >= BLAS_MIN_SIZE else None
                              for p in self.params]

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``."""
        self.steps += 1
        step, lr, lr_decay = self.steps, self.lr, self.lr_decay
        weight_decay, eps = self.weight_decay, self.eps
        for p, state, update_param in zip(self.params, self.state, self._update_param):
            if update_param is None:
                adagrad_step(p.data, p.grad, state["sum"], step=step, lr=lr, lr_decay=lr_decay,
                             weight_decay=weight_decay, eps=eps)
            else:
                _fused_adagrad_step(p.data, p.grad, state["sum"], step=step, lr=lr, lr_decay=lr_decay,
                                    weight_decay=weight_decay, eps=eps, update_param=update_param)

    def extra_repr(self) -> str:
        text = "".join(f", {k}={v}" for k, v in (("lr_decay", self.lr_decay),
                                                 ("weight_decay", self.weight_decay),
                                                 ("initial_accumulator_value",
                                                  self.initial_accumulator_value)) if v)
        return text + f", eps={self.eps}"
