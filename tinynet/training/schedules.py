"""Learning-rate schedules with PyTorch's formulas and argument names.

Each schedule is a :class:`tinynet.Callback` that advances once per epoch, or once
per batch with ``interval="step"`` (PyTorch Lightning's name), so ``fit`` drives it
when you pass it in ``callbacks``::

    opt = tn.SGD(model.parameters(), lr=0.1)
    tn.fit(model, loss, opt, loader, epochs=30, callbacks=[tn.StepLR(opt, step_size=10)])

Linear warmup then a cosine decay, stepped every batch (PyTorch's
``SequentialLR(LinearLR, CosineAnnealingLR)``)::

    warmup, total = 100, epochs * len(loader)
    schedule = tn.SequentialLR(opt, [tn.LinearLR(opt, start_factor=0.01, total_iters=warmup),
                                     tn.CosineAnnealingLR(opt, T_max=total - warmup)],
                               milestones=[warmup], interval="step")

As in PyTorch, epoch 1 trains with ``lr(0)``: the optimizer's initial ``lr``
(``base_lr``), or ``base_lr * start_factor`` for ``LinearLR``, which sets it when built;
after ``e`` completed epochs (``last_epoch = e``) the rate is ``lr(e)``, the
closed form below (with ``interval="step"``, ``e`` counts batches). Outside ``fit``,
call :meth:`LRScheduler.step` after each epoch (or batch), exactly like
``torch.optim.lr_scheduler``. Calling ``fit`` again continues the schedule where it
stopped.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from tinynet.engine.checks import check_choice, check_int, check_number
from tinynet.training.callbacks import Callback, Run

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "SequentialLR"]

INTERVALS = ("epoch", "step")  # when fit advances a schedule: after each epoch, or after each batch


class LRScheduler(Callback):
    """Base class: sets ``optimizer.lr = lr(last_epoch)`` on every :meth:`step`.

    Subclasses implement :meth:`get_lr`. ``lrs`` records the rate each epoch starts with.
    ``interval``: ``"epoch"`` (default) advances after every epoch of ``fit``, ``"step"``
    after every batch (``last_epoch`` then counts batches).
    """

    def __init__(self, optimizer: Any, *, interval: str = "epoch") -> None:
        lr = getattr(optimizer, "lr", None)
        if not callable(getattr(optimizer, "step", None)) or not isinstance(lr, (int, float)):
            raise TypeError(f"{type(self).__name__} needs a tinynet optimizer (with .lr and .step()), "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(lr)
        self.last_epoch = 0
        self.lrs: list[float] = []
        self.interval = check_choice(interval, f"{type(self).__name__} interval", INTERVALS)

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

    def on_batch_end(self, batch: int, loss: float, size: int) -> None:
        if self.interval == "step":
            self.step()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.interval == "epoch":
            self.step()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()}, last_epoch={self.last_epoch})"

    def extra_repr(self) -> str:
        return f"base_lr={self.base_lr}"

    def interval_repr(self) -> str:
        """``", interval='step'"`` for a per-batch schedule, nothing for the default."""
        return "" if self.interval == "epoch" else f", interval={self.interval!r}"


class StepLR(LRScheduler):
    """Decay by ``gamma`` every ``step_size`` epochs::

        lr(e) = base_lr * gamma ** floor(e / step_size)
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, *,
                 interval: str = "epoch") -> None:
        super().__init__(optimizer, interval=interval)
        self.step_size = check_int(step_size, "StepLR step_size", minimum=1)
        self.gamma = check_number(gamma, "StepLR gamma", low=0, low_open=True)

    def get_lr(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)

    def extra_repr(self) -> str:
        return f"step_size={self.step_size}, gamma={self.gamma}{self.interval_repr()}"


class ExponentialLR(LRScheduler):
    """Decay by ``gamma`` every epoch::

        lr(e) = base_lr * gamma ** e
    """

    def __init__(self, optimizer: Any, gamma: float, *, interval: str = "epoch") -> None:
        super().__init__(optimizer, interval=interval)
        self.gamma = check_number(gamma, "ExponentialLR gamma", low=0, low_open=True)

    def get_lr(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** epoch

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}{self.interval_repr()}"


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs::

        lr(e) = eta_min + (base_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2

    This is the closed form PyTorch documents; past ``T_max`` it rises again
    along the same cosine (PyTorch does the same).
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 *, interval: str = "epoch") -> None:
        super().__init__(optimizer, interval=interval)
        self.T_max = check_int(T_max, "CosineAnnealingLR T_max", minimum=1)
        self.eta_min = check_number(eta_min, "CosineAnnealingLR eta_min", low=0)

    def get_lr(self, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine

    def extra_repr(self) -> str:
        return f"T_max={self.T_max}, eta_min={self.eta_min}{self.interval_repr()}"


class LinearLR(LRScheduler):
    """Scale ``base_lr`` by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` steps, then keep ``end_factor`` (PyTorch's ``LinearLR``; a linear
    warmup with ``start_factor < 1``)::

        lr(e) = base_lr * (start_factor + (end_factor - start_factor) * min(e, total_iters) / total_iters)

    As in PyTorch, building it sets the optimizer's rate to ``lr(0) = base_lr * start_factor``.
    """

    def __init__(self, optimizer: Any, start_factor: float = 1 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, *, interval: str = "epoch") -> None:
        super().__init__(optimizer, interval=interval)
        self.start_factor = check_number(start_factor, "LinearLR start_factor", low=0, low_open=True, high=1)
        self.end_factor = check_number(end_factor, "LinearLR end_factor", low=0, high=1)
        self.total_iters = check_int(total_iters, "LinearLR total_iters", minimum=1)
        self.optimizer.lr = self.get_lr(0)

    def get_lr(self, epoch: int) -> float:
        progress = min(epoch, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)

    def extra_repr(self) -> str:
        return (f"start_factor={self.start_factor}, end_factor={self.end_factor}, "
                f"total_iters={self.total_iters}{self.interval_repr()}")


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after the other, switching at the ``milestones`` (PyTorch's
    ``SequentialLR``): ``schedulers[k]`` runs from ``milestones[k-1]`` with its own count
    restarted at 0::

        lr(e) = schedulers[k].lr(e - milestones[k-1])   for milestones[k-1] <= e < milestones[k]

    Every scheduler starts from the same ``base_lr``, the first one's (the optimizer's rate
    before any scheduler changed it, PyTorch's ``initial_lr``). Pass only the
    ``SequentialLR`` to ``fit``: it drives the others, with its own ``interval``.
    """

    def __init__(self, optimizer: Any, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 *, interval: str = "epoch") -> None:
        schedulers = list(schedulers)
        if not schedulers or not all(isinstance(s, LRScheduler) for s in schedulers):
            raise TypeError(f"SequentialLR schedulers must be a non-empty list of tinynet schedules, "
                            f"got {schedulers!r}")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError("SequentialLR: every scheduler must be built for the optimizer passed "
                             "to SequentialLR")
        milestones = [check_int(m, f"SequentialLR milestones[{k}]", minimum=1)
                      for k, m in enumerate(milestones)]
        if len(milestones) != len(schedulers) - 1 or milestones != sorted(set(milestones)):
            raise ValueError(f"SequentialLR milestones must be {len(schedulers) - 1} increasing step "
                             f"counts, one per switch between the {len(schedulers)} schedulers, "
                             f"got {milestones}")
        super().__init__(optimizer, interval=interval)
        self.schedulers, self.milestones = schedulers, milestones
        self.base_lr = schedulers[0].base_lr
        for scheduler in schedulers:
            scheduler.base_lr = self.base_lr
        self.optimizer.lr = self.get_lr(0)

    def get_lr(self, epoch: int) -> float:
        index = bisect_right(self.milestones, epoch)
        start = self.milestones[index - 1] if index else 0
        scheduler = self.schedulers[index]
        scheduler.last_epoch = epoch - start
        return scheduler.get_lr(epoch - start)

    def extra_repr(self) -> str:
        inner = ", ".join(f"{type(s).__name__}({s.extra_repr()})" for s in self.schedulers)
        return f"[{inner}], milestones={self.milestones}{self.interval_repr()}"
