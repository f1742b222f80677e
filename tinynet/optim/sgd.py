"""SGD with momentum, dampening, Nesterov and weight decay: PyTorch's rule.

:func:`sgd_step` is the readable single-parameter update in plain numpy (the
reference, and what ``fused=False`` runs); :class:`SGD` applies it to every
parameter, or the same rule with its two in-place ``y += alpha * x`` updates made in
one BLAS pass each (``fused``, see :class:`tinynet.optim.Optimizer`).
"""

from __future__ import annotations

from collections.abc import Iterable

from tinynet.engine.blas import BLAS_MIN_SIZE, TunedAxpy
from tinynet.engine.checks import check_number
from tinynet.engine.types import Array
from tinynet.layers.parameter import Parameter
from tinynet.optim.flat import flat_groups
from tinynet.optim.optimizer import Optimizer

__all__ = ["SGD", "sgd_step"]


def sgd_step(
    param: Array,
    grad: Array,
    momentum_buffer: Array | None,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> Array | None:
    """One SGD update of ``param``, in place; returns the momentum buffer to pass next time.

    Shapes: ``param``, ``grad`` and ``momentum_buffer`` the same, any shape, one float
    dtype (Python-float hyper-parameters keep float32 float32). ``momentum_buffer`` is
    None on the first step (and stays None without momentum); it is updated in place
    after that. The rule, PyTorch's::

        g = grad + weight_decay * param
        b = g (first step), else b = momentum * b + (1 - dampening) * g
        g = g + momentum * b (nesterov), else g = b       (only if momentum)
        param = param - lr * g
    """
    if weight_decay:
        grad = grad + weight_decay * param
    if momentum:
        if momentum_buffer is None:
            momentum_buffer = grad.copy()
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * grad
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * grad
    return momentum_buffer


def _fused_sgd_step(param: Array, grad: Array, momentum_buffer: Array | None, *, lr: float,
                    momentum: float, dampening: float, nesterov: bool, weight_decay: float,
                    update_param: TunedAxpy, update_buffer: TunedAxpy) -> Array | None:
    """:func:`sgd_step` with ``b += (1 - dampening) * g`` and ``param -= lr * g`` in one BLAS pass each."""
    if weight_decay:
        grad = grad + weight_decay * param
    if momentum:
        if momentum_buffer is None:
            momentum_buffer = grad.copy()
        else:
            momentum_buffer *= momentum
            update_buffer(1 - dampening, grad, momentum_buffer)
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    update_param(-lr, grad, param)
    return momentum_buffer


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's update rule (:func:`sgd_step`).

    With ``g = grad + weight_decay * w``; if ``momentum``:
    ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on the first step),
    then ``g = g + momentum * b`` if ``nesterov`` else ``g = b``. Finally
    ``w = w - lr * g``. With the defaults this is the article's ``W <- W - lr dW``.

    Fused, the optimizer moves the parameters' values and gradients into one flat
    buffer per dtype when it is made (``p.data`` becomes a view of it: read ``p.data``
    after making the optimizer, not before), and the plain rule runs once per step
    over the whole buffer.

    Args:
        params: the parameters to update, e.g. ``model.parameters()``.
        lr: learning rate, ``> 0``.
        momentum: ``>= 0``; 0 turns the buffer off.
        dampening: in ``[0, 1]``; scales the gradient's share of the buffer by ``1 - dampening``.
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening = 0``.
        weight_decay: L2 penalty, ``>= 0``.
        fused: ``None`` (default) the one-pass BLAS update when numpy's OpenBLAS is usable,
            ``False`` numpy's :func:`sgd_step`, ``True`` BLAS or a ``RuntimeError`` saying why not.

    State: ``state[i]["momentum_buffer"]``, shaped like ``params[i]`` (with momentum).

    Example::

        opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, fused)
        self.momentum = check_number(momentum, "momentum", low=0, high=1)
        self.dampening = check_number(dampening, "dampening", low=0, high=1)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("nesterov=True requires momentum > 0 and dampening = 0, "
                             f"got momentum={momentum}, dampening={dampening}")
        self.nesterov = bool(nesterov)
        # Per parameter, its two BLAS updates, or None where numpy's update runs: not fused,
        # or too small for BLAS to pay (decided once here, not in every step).
        blas = [self.fused and p.size >= BLAS_MIN_SIZE for p in self.params]
        self._update_param = [TunedAxpy() if b else None for b in blas]
        self._update_buffer = [TunedAxpy() if b else None for b in blas]
        # Fused, the parameters move into one flat buffer per dtype (tinynet.optim.flat), where
        # the plain rule w -= lr * g is one update per step instead of one per parameter.
        self._flat = flat_groups(self.params) if self.fused else None
        self._update_flat = [TunedAxpy() if group.size >= BLAS_MIN_SIZE else None
                             for group in self._flat or ()]

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``."""
        lr, momentum, dampening = self.lr, self.momentum, self.dampening
        nesterov, weight_decay = self.nesterov, self.weight_decay
        plain = not (momentum or weight_decay)  # the article's w -= lr * g: no state
        if plain and self._flat is not None:
            for group, update in zip(self._flat, self._update_flat):
                data, grad = group.buffers()
                if update is None:  # too small for BLAS to pay: numpy's update
                    data -= lr * grad
                else:
                    update(-lr, grad, data)
            self.steps += 1
            return
        for p, state, update_param, update_buffer in zip(self.params, self.state,
                                                         self._update_param, self._update_buffer):
            if update_param is None or update_buffer is None:  # numpy's update
                if plain:  # sgd_step's last line, the only one that runs
                    p.data -= lr * p.grad
                    continue
                buffer = sgd_step(p.data, p.grad, state.get("momentum_buffer"), lr=lr, momentum=momentum,
                                  dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
            else:
                buffer = _fused_sgd_step(p.data, p.grad, state.get("momentum_buffer"), lr=lr,
                                         momentum=momentum, dampening=dampening, nesterov=nesterov,
                                         weight_decay=weight_decay, update_param=update_param,
                                         update_buffer=update_buffer)
            if buffer is not None:
                state["momentum_buffer"] = buffer
        self.steps += 1

    def extra_repr(self) -> str:
        return "".join(f", {k}={v}" for k, v in (("momentum", self.momentum),
                       ("dampening", self.dampening), ("weight_decay", self.weight_decay))
                       if v) + (", nesterov=True" if self.nesterov else "")
