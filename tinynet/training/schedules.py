"""Learning-rate schedules with PyTorch's formulas and argument names.

Each schedule is a :class:`tinynet.Callback` that advances once per epoch, so
``fit`` drives it when you pass it in ``callbacks``::

    opt = tn.SGD(model.parameters(), lr=0.1)
    tn.fit(model, loss, opt, loader, epochs=30, callbacks=[tn.StepLR(opt, step_size=10)])

As in PyTorch, epoch 1 trains with the optimizer's initial ``lr`` (``base_lr``);
after ``e`` completed epochs (``last_epoch = e``) the rate is ``lr(e)``, the
closed form below. Outside ``fit``, call :meth:`LRScheduler.step` after each
epoch, exactly like ``torch.optim.lr_scheduler``. Calling ``fit`` again
continues the schedule where it stopped.
"""

from __future__ import annotations

import math
from typing import Any

from tinynet.engine.checks import check_int, check_number
from tinynet.training.callbacks import Callback, Run

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR"]


class LRScheduler(Callback):
    """Base class: sets ``optimizer.lr = lr(last_epoch)`` on every :meth:`step`.

    Subclasses implement :meth:`get_lr`. ``lrs`` records the rate used by each epoch.
    """

    def __init__(self, optimizer: Any) -> None:
        lr = getattr(optimizer, "lr", None)
        if not callable(getattr(optimizer, "step", None)) or not isinstance(lr, (int, float)):
            raise TypeError(f"{type(self).__name__} needs a tinynet optimizer (with .lr and .step()), "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(lr)
        self.last_epoch = 0
        self.lrs: list[float] = []

    def get_lr(self, epoch: int) -> float:
        """The learning rate after ``epoch`` completed epochs."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self.get_lr(self.last_epoch)

    def get_last_lr(self) -> float:
        """The learning rate the optimizer uses now."""
        return float(self.optimizer.lr)

    def on_train_begin(self, run: Run) -> None:
        if run.optimizer is not self.optimizer:
            raise ValueError(f"{type(self).__name__} was built for a different optimizer than the "
                             f"one passed to fit; build it with the same optimizer object")

    def on_epoch_begin(self, epoch: int) -> None:
        self.lrs.append(self.get_last_lr())

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.step()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()}, last_epoch={self.last_epoch})"

    def extra_repr(self) -> str:
        return f"base_lr={self.base_lr}"


class StepLR(LRScheduler):
    """Decay by ``gamma`` every ``step_size`` epochs::

        lr(e) = base_lr * gamma ** floor(e / step_size)
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = check_int(step_size, "StepLR step_size", minimum=1)
        self.gamma = check_number(gamma, "StepLR gamma", low=0, low_open=True)

    def get_lr(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)

    def extra_repr(self) -> str:
        return f"step_size={self.step_size}, gamma={self.gamma}"


class ExponentialLR(LRScheduler):
    """Decay by ``gamma`` every epoch::

        lr(e) = base_lr * gamma ** e
    """

    def __init__(self, optimizer: Any, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = check_number(gamma, "ExponentialLR gamma", low=0, low_open=True)

    def get_lr(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** epoch

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}"


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs::

        lr(e) = eta_min + (base_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2

    This is the closed form PyTorch documents; past ``T_max`` it rises again
    along the same cosine (PyTorch does the same).
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        super().__init__(optimizer)
        self.T_max = check_int(T_max, "CosineAnnealingLR T_max", minimum=1)
        self.eta_min = check_number(eta_min, "CosineAnnealingLR eta_min", low=0)

    def get_lr(self, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine

    def extra_repr(self) -> str:
        return f"T_max={self.T_max}, eta_min={self.eta_min}"
