"""Optimizers: update each ``Parameter.data`` in place from its ``.grad``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet.engine.blas import TunedAxpy
from tinynet.engine.checks import check_number
from tinynet.layers.parameter import Parameter

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]


class Optimizer:
    """Base class: holds the parameter list and per-parameter state.

    State is keyed by the parameter's position in ``params`` (never by a name
    like ``"W"``), has the parameter's dtype, and lives in ``self.state``.
    """

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: params is empty; pass model.parameters()")
        for index, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__}: params[{index}] must be a "
                                f"tinynet.Parameter, got {type(p).__name__}")
        self.lr = check_number(lr, "lr", low=0, low_open=True)
        self.state: list[dict[str, NDArray[Any]]] = [{} for _ in self.params]
        self.steps = 0
        self._update_weight = self._tuned_updates()

    def _tuned_updates(self) -> list[TunedAxpy]:
        """One :class:`tinynet.engine.blas.TunedAxpy` per parameter for one kind of in-place
        update (``w -= lr * g``, a moment's ``m += c * g``): ``y += alpha * x`` in one
        BLAS pass, on the threads that pay for that update."""
        return [TunedAxpy() for _ in self.params]

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``."""
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (layers overwrite it anyway)."""
        for p in self.params:
            p.zero_grad()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, params={len(self.params)})"


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's update rule.

    With ``g = grad + weight_decay * w``; if ``momentum``:
    ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on the first step),
    then ``g = g + momentum * b`` if ``nesterov`` else ``g = b``. Finally
    ``w = w - lr * g``. With the defaults this is the article's ``W <- W - lr dW``.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = check_number(momentum, "momentum", low=0)
        self.dampening = check_number(dampening, "dampening", low=0, high=1)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("nesterov=True requires momentum > 0 and dampening = 0, "
                             f"got momentum={momentum}, dampening={dampening}")
        self.nesterov = bool(nesterov)
        self._update_buffer = self._tuned_updates()

    def step(self) -> None:
        # Python floats are "weak" scalars in numpy: decay * w stays float32 for float32 w.
        lr, momentum, decay = self.lr, self.momentum, self.weight_decay
        for p, state, update_weight, update_buffer in zip(self.params, self.state, self._update_weight,
                                                          self._update_buffer):
            g = p.grad
            if decay:
                g = g + decay * p.data
            if momentum:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = g.copy()
                else:
                    buf *= momentum
                    update_buffer(1 - self.dampening, g, buf)
                g = g + momentum * buf if self.nesterov else buf
            update_weight(-lr, g, p.data)  # w -= lr * g in one pass
        self.steps += 1

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in (("momentum", self.momentum),
                        ("dampening", self.dampening), ("weight_decay", self.weight_decay))
                        if v) + (", nesterov=True" if self.nesterov else "")
        return f"SGD(lr={self.lr}{extra})"


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with PyTorch's update rule and argument names.

    Per parameter, at step ``t`` (counting from 1), with ``g = grad``::

        g  = g + weight_decay * w                 (L2 penalty, only if weight_decay)
        m  = beta1 * m + (1 - beta1) * g          state["exp_avg"]
        v  = beta2 * v + (1 - beta2) * g**2       state["exp_avg_sq"]
        m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
        w  = w - lr * m_hat / (sqrt(v_hat) + eps)

    ``m`` and ``v`` start at zero and have the parameter's shape and dtype. As in
    PyTorch, the bias corrections are folded into scalars, so that a step needs
    one scratch array per parameter instead of ``m_hat``, ``v_hat`` and their
    quotient: ``w -= step_size * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)`` with
    ``step_size = lr / (1 - beta1**t)``.
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = check_number(eps, "eps", low=0, low_open=True)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)
        self._update_exp_avg = self._tuned_updates()

    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1 ** self.steps)
        correction2_sqrt = math.sqrt(1 - beta2 ** self.steps)
        for p, state, update_weight, update_exp_avg in zip(self.params, self.state, self._update_weight,
                                                           self._update_exp_avg):
            dtype = p.data.dtype.type
            if not state:
                state["exp_avg"] = np.zeros_like(p.data)
                state["exp_avg_sq"] = np.zeros_like(p.data)
            m, v = state["exp_avg"], state["exp_avg_sq"]
            g = p.grad
            if self.weight_decay and self.decoupled_weight_decay:
                p.data *= dtype(1 - self.lr * self.weight_decay)
            elif self.weight_decay:
                g = g + dtype(self.weight_decay) * p.data
            m *= dtype(beta1)
            update_exp_avg(1 - beta1, g, m)
            scratch = np.multiply(g, g, dtype=p.data.dtype)  # the one allocation
            scratch *= dtype(1 - beta2)
            v *= dtype(beta2)
            v += scratch
            denom = np.sqrt(v, out=scratch)  # sqrt(v_hat) + eps, with the correction as a scalar
            denom /= dtype(correction2_sqrt)
            denom += dtype(self.eps)
            update = np.divide(m, denom, out=denom)
            update_weight(-step_size, update, p.data)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay})")


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as PyTorch's AdamW.

    The decay shrinks the weights directly instead of entering the gradient,
    so it is not rescaled by ``sqrt(v_hat)``; per step::

        w = w * (1 - lr * weight_decay)
        ...then Adam's update with g = grad (no L2 term)

    Default ``weight_decay=0.01`` (PyTorch's).
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


def _check_betas(betas: Any) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
    return (check_number(betas[0], "betas[0]", low=0, high=1, high_open=True),
            check_number(betas[1], "betas[1]", low=0, high=1, high_open=True))
