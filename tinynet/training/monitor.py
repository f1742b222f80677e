"""`MonitorCallback`: the base of callbacks that watch one epoch log and remember the best."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.checks import check_choice, check_number
from tinynet.layers.state import Snapshot
from tinynet.training.callbacks import Callback, Run

__all__ = ["MonitorCallback", "MAX_HINTS"]

MAX_HINTS = ("acc", "auc", "r2", "precision", "recall", "f1")


class MonitorCallback(Callback):
    """Watch ``logs[monitor]`` after every epoch; keep ``best``, ``best_epoch`` and, with
    ``restore_best``, a :class:`~tinynet.layers.state.Snapshot` of the best epoch's weights.

    ``mode``: ``"min"`` (losses, errors), ``"max"``, or ``"auto"``, which picks
    ``"max"`` for names containing accuracy-like words (``acc``, ``auc``, ``r2``, ...).
    A value *improves* when it beats ``best`` by more than ``min_delta``.
    ``best_follows_any_gain``: the best value follows every gain, even one smaller
    than ``min_delta`` (scikit-learn's rule); otherwise only improvements count
    (Keras's rule). Subclasses decide what to do in :meth:`after_epoch`.
    """

    def __init__(self, monitor: str, mode: str = "auto", min_delta: float = 0.0,
                 restore_best: bool = False, *, best_follows_any_gain: bool = False,
                 owner: str = "MonitorCallback") -> None:
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"{owner} monitor must be a log name such as 'val_loss', got {monitor!r}")
        self.monitor = monitor
        self.min_delta = check_number(min_delta, f"{owner} min_delta", low=0)
        self.mode = check_choice(mode, f"{owner} mode", ("auto", "min", "max"))
        if self.mode == "auto":
            self.mode = "max" if any(h in monitor.lower() for h in MAX_HINTS) else "min"
        self.restore_best = bool(restore_best)
        self.best_follows_any_gain = best_follows_any_gain
        self._owner = owner
        self.reset()

    def reset(self) -> None:
        """Forget the best epoch (called when training begins)."""
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.restored_epoch: int | None = None
        self._snapshot: Snapshot | None = None

    def on_train_begin(self, run: Run) -> None:
        self.reset()
        self.run = run
        # Other callbacks may add log keys, but val_* ones need validation data: say so now.
        if self.monitor.startswith("val_") and "val_loss" not in run.log_names:
            self._missing_monitor(run.log_names)

    def _missing_monitor(self, names: list[str]) -> None:
        hint = " (pass validation_data=(x_val, y_val) to fit)" if self.monitor.startswith("val_") else ""
        raise ValueError(f"{self._owner} monitors {self.monitor!r}, but the epoch logs only have "
                         f"{sorted(names)}{hint}")

    def beats(self, value: float, reference: float | None, margin: float) -> bool:
        """Whether ``value`` is better than ``reference`` by more than ``margin``."""
        if not np.isfinite(value):
            return False
        if reference is None:
            return True
        return value < reference - margin if self.mode == "min" else value > reference + margin

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            self._missing_monitor(list(logs))
        value = float(logs[self.monitor])
        improved = self.beats(value, self.best, self.min_delta)
        if improved or (self.best_follows_any_gain and self.beats(value, self.best, 0.0)):
            self.best, self.best_epoch = value, epoch
            if self.restore_best:
                if self._snapshot is None:
                    self._snapshot = Snapshot(self.run.model)
                else:
                    self._snapshot.update()
        self.after_epoch(epoch, improved)

    def after_epoch(self, epoch: int, improved: bool) -> None:
        """What to do once the epoch's value is known (``improved`` by more than ``min_delta``)."""

    def restore(self) -> bool:
        """Put the best epoch's weights back, if kept; return whether it did."""
        if self._snapshot is None:
            return False
        self._snapshot.restore()
        self._snapshot = None  # free the copy
        self.restored_epoch = self.run.history.restored_epoch = self.best_epoch
        return True

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best:
            self.restore()
