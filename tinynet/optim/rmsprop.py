"""RMSprop with momentum, centering and weight decay: PyTorch's rule.

:func:`rmsprop_step` is the readable single-parameter update in plain numpy (the
reference, and what ``fused=False`` runs); :class:`RMSprop` applies it to every
parameter, or the same rule with one scratch array and the parameter's
``w -= lr * u`` made in one BLAS pass (``fused``, see :class:`tinynet.optim.Optimizer`).
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

__all__ = ["RMSprop", "rmsprop_step"]

Array = NDArray[Any]


def rmsprop_step(
    param: Array,
    grad: Array,
    square_avg: Array,
    grad_avg: Array | None = None,
    momentum_buffer: Array | None = None,
    *,
    lr: float,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
) -> None:
    """One RMSprop update of ``param``, all arrays in place.

    Shapes: every array the shape of ``param``, one float dtype; the state starts at zero.
    ``grad_avg`` is given for the centered variant, ``momentum_buffer`` with momentum.
    The rule, PyTorch's::

        g = grad + weight_decay * param
        v = alpha * v + (1 - alpha) * g**2                       square_avg
        m = m + (1 - alpha) * (g - m)                            grad_avg (centered only)
        d = sqrt(v - m**2) + eps  (centered), else sqrt(v) + eps
        b = momentum * b + g / d; param -= lr * b                 (momentum > 0)
        param -= lr * g / d                                      (otherwise)
    """
    if weight_decay:
        grad = grad + weight_decay * param
    square_avg *= alpha
    square_avg += (1 - alpha) * grad * grad
    if grad_avg is not None:
        grad_avg += (1 - alpha) * (grad - grad_avg)
        avg = np.sqrt(square_avg - grad_avg * grad_avg)
    else:
        avg = np.sqrt(square_avg)
    avg += eps
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        momentum_buffer += grad / avg
        param -= lr * momentum_buffer
    else:
        param -= lr * (grad / avg)


def _fused_rmsprop_step(param: Array, grad: Array, square_avg: Array, grad_avg: Array | None,
                        momentum_buffer: Array | None, *, lr: float, alpha: float, eps: float,
                        weight_decay: float, momentum: float, update_param: TunedAxpy) -> None:
    """:func:`rmsprop_step` with one scratch array and ``param -= lr * u`` in one BLAS pass."""
    if weight_decay:
        grad = grad + weight_decay * param
    scratch = np.multiply(grad, grad, dtype=param.dtype)
    scratch *= 1 - alpha
    square_avg *= alpha
    square_avg += scratch
    if grad_avg is not None:
        np.subtract(grad, grad_avg, out=scratch)
        scratch *= 1 - alpha
        grad_avg += scratch
        np.multiply(grad_avg, grad_avg, out=scratch)
        np.subtract(square_avg, scratch, out=scratch)
        np.sqrt(scratch, out=scratch)
    else:
        np.sqrt(square_avg, out=scratch)
    scratch += eps
    update = np.divide(grad, scratch, out=scratch)
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        momentum_buffer += update
        update = momentum_buffer
    update_param(-lr, update, param)


class RMSprop(Optimizer):
    """RMSprop (Hinton 2012) with PyTorch's update rule and argument names (:func:`rmsprop_step`).

    Per parameter, with ``g = grad + weight_decay * w``::

        v = alpha * v + (1 - alpha) * g**2              state["square_avg"]
        m = alpha * m + (1 - alpha) * g                 state["grad_avg"]      (centered)
        d = sqrt(v - m**2) + eps if centered else sqrt(v) + eps
        b = momentum * b + g / d;  w = w - lr * b       state["momentum_buffer"] (momentum > 0)
        w = w - lr * g / d                              (otherwise)

    Args:
        params: the parameters to update, e.g. ``model.parameters()``.
        lr: learning rate, ``> 0`` (PyTorch's default 0.01).
        alpha: smoothing constant of the running averages, in ``[0, 1]``.
        eps: ``> 0``, added to the denominator.
        weight_decay: L2 penalty, ``>= 0``.
        momentum: ``>= 0``; 0 turns the buffer off.
        centered: divide by the estimated variance of the gradient instead of its second moment.
        fused: ``None`` (default) the one-pass BLAS update when numpy's OpenBLAS is usable,
            ``False`` numpy's :func:`rmsprop_step`, ``True`` BLAS or a ``RuntimeError`` saying why not.

    State: ``state[i]["square_avg"]``, and ``"grad_avg"`` (centered), ``"momentum_buffer"``
    (momentum), shaped like ``params[i]`` and starting at zero.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, fused)
        self.alpha = check_number(alpha, "alpha", low=0, high=1)
        self.eps = check_number(eps, "eps", low=0, low_open=True)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)
        self.momentum = check_number(momentum, "momentum", low=0)
        if not isinstance(centered, (bool, np.bool_)):
            raise TypeError(f"RMSprop: centered must be True or False, got {centered!r}")
        self.centered = bool(centered)
        # Per parameter, its BLAS update, or None where numpy's runs (not fused, or too small to pay).
        self._update_param = [TunedAxpy() if self.fused and p.size >= BLAS_MIN_SIZE else None
                              for p in self.params]

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``."""
        self.steps += 1
        rule = dict(lr=self.lr, alpha=self.alpha, eps=self.eps, weight_decay=self.weight_decay,
                    momentum=self.momentum)
        for p, state, update_param in zip(self.params, self.state, self._update_param):
            if not state:
                state["square_avg"] = np.zeros_like(p.data)
                if self.centered:
                    state["grad_avg"] = np.zeros_like(p.data)
                if self.momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(p.data)
            grad_avg, buffer = state.get("grad_avg"), state.get("momentum_buffer")
            if update_param is None:
                rmsprop_step(p.data, p.grad, state["square_avg"], grad_avg, buffer, **rule)
            else:
                _fused_rmsprop_step(p.data, p.grad, state["square_avg"], grad_avg, buffer,
                                    update_param=update_param, **rule)

    def extra_repr(self) -> str:
        text = f", alpha={self.alpha}, eps={self.eps}"
        text += "".join(f", {k}={v}" for k, v in (("weight_decay", self.weight_decay),
                                                  ("momentum", self.momentum)) if v)
        return text + (", centered=True" if self.centered else "")
