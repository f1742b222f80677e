"""Optimizers: update each ``Parameter.data`` in place from its ``.grad``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet._validation import check_number
from tinynet.parameter import Parameter

__all__ = ["Optimizer", "SGD"]


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
        self.lr = check_number(lr, "lr", low=0.0, low_open=True)
        self.state: list[dict[str, NDArray[Any]]] = [{} for _ in self.params]
        self.steps = 0

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
        self.momentum = check_number(momentum, "momentum", low=0.0)
        self.dampening = check_number(dampening, "dampening", low=0.0, high=1.0)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0.0)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("nesterov=True requires momentum > 0 and dampening = 0, "
                             f"got momentum={momentum}, dampening={dampening}")
        self.nesterov = bool(nesterov)

    def step(self) -> None:
        for p, state in zip(self.params, self.state):
            dtype = p.data.dtype.type
            g = p.grad
            if self.weight_decay:
                g = g + dtype(self.weight_decay) * p.data
            if self.momentum:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(g, dtype=p.data.dtype, copy=True)
                else:
                    buf *= dtype(self.momentum)
                    buf += dtype(1 - self.dampening) * g
                g = g + dtype(self.momentum) * buf if self.nesterov else buf
            p.data -= dtype(self.lr) * g
        self.steps += 1

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in (("momentum", self.momentum),
                        ("dampening", self.dampening), ("weight_decay", self.weight_decay))
                        if v) + (", nesterov=True" if self.nesterov else "")
        return f"SGD(lr={self.lr}{extra})"
