"""`ReduceLROnPlateau`: lower the learning rate when a monitored value stops improving."""

from __future__ import annotations

import logging
from typing import Any

from tinynet.engine.checks import check_int, check_number
from tinynet.training.callbacks import Run
from tinynet.training.monitor import MonitorCallback

__all__ = ["ReduceLROnPlateau"]

logger = logging.getLogger("tinynet")


class ReduceLROnPlateau(MonitorCallback):
    """Multiply ``optimizer.lr`` by ``factor`` once ``monitor`` has not improved for
    ``patience`` epochs (Keras's ``ReduceLROnPlateau``; PyTorch's reduces one epoch later).

    An epoch *improves* when its value beats the best so far by more than ``min_delta``
    (``mode`` as :class:`tinynet.EarlyStopping`: ``"auto"`` picks ``"max"`` for
    accuracy-like names). After a reduction, ``cooldown`` epochs pass before counting
    again; the rate never goes below ``min_lr``. ``reductions`` lists ``(epoch, new_lr)``.
    """

    def __init__(
        self,
        optimizer: Any,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        min_lr: float = 0.0,
        cooldown: int = 0,
        min_delta: float = 1e-4,
        mode: str = "auto",
        verbose: bool = True,
    ) -> None:
        super().__init__(monitor, mode, min_delta, owner="ReduceLROnPlateau")
        if not isinstance(getattr(optimizer, "lr", None), (int, float)) \
                or not callable(getattr(optimizer, "step", None)):
            raise TypeError(f"ReduceLROnPlateau needs a tinynet optimizer (with .lr and .step()), "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.factor = check_number(factor, "ReduceLROnPlateau factor", low=0, high=1, low_open=True,
                                   high_open=True)
        self.patience = check_int(patience, "ReduceLROnPlateau patience", minimum=0)
        self.min_lr = check_number(min_lr, "ReduceLROnPlateau min_lr", low=0)
        self.cooldown = check_int(cooldown, "ReduceLROnPlateau cooldown", minimum=0)
        self.verbose = bool(verbose)

    def reset(self) -> None:
        super().reset()
        self.wait = 0
        self.cooldown_left = 0
        self.reductions: list[tuple[int, float]] = []

    def on_train_begin(self, run: Run) -> None:
        if run.optimizer is not self.optimizer:
            raise ValueError("ReduceLROnPlateau was built for a different optimizer than the one passed "
                             "to fit; build it with the same optimizer object")
        super().on_train_begin(run)

    def after_epoch(self, epoch: int, improved: bool) -> None:
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if improved:
            self.wait = 0
            return
        if self.cooldown_left > 0:
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        old = float(self.optimizer.lr)
        new = max(old * self.factor, self.min_lr)
        if old - new > 1e-12 * old:
            self.optimizer.lr = new
            self.reductions.append((epoch, new))
            message = (f"ReduceLROnPlateau: {self.monitor} did not improve for {self.wait} epochs; "
                       f"learning rate {old:.3g} -> {new:.3g} after epoch {epoch}")
            logger.info(message)
            if self.verbose:
                self.run.notes.append(message)
        self.cooldown_left, self.wait = self.cooldown, 0

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(monitor={self.monitor!r}, factor={self.factor}, "
                f"patience={self.patience}, min_lr={self.min_lr}, cooldown={self.cooldown}, "
                f"mode={self.mode!r})")
