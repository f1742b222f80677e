"""`EarlyStopping`: stop when a monitored value stops improving; keep the best weights."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet._validation import check_choice, check_int, check_number
from tinynet.callbacks import Callback, Run
from tinynet.layers.base import named_buffers_of

__all__ = ["EarlyStopping", "RestoreOnInterrupt", "model_state"]

logger = logging.getLogger("tinynet")
MAX_HINTS = ("acc", "auc", "r2", "precision", "recall", "f1")


class EarlyStopping(Callback):
    """Stop ``fit`` once ``monitor`` has not improved for ``patience`` epochs.

    An epoch *improves* when its value beats the best so far by more than
    ``min_delta``: ``value < best - min_delta`` in ``"min"`` mode, ``value >
    best + min_delta`` in ``"max"`` mode. ``mode="auto"`` picks ``"max"`` for
    names containing accuracy-like words (``acc``, ``auc``, ``r2``, ...) and
    ``"min"`` otherwise (losses, errors). Training stops after ``patience``
    epochs in a row without improvement (as in Keras, ``patience`` 0 and 1 both
    stop at the first epoch that does not improve).

    With ``restore_best=True`` the weights (parameters and buffers such as
    BatchNorm's running statistics) of the best epoch are put back at the end
    of training, *whatever ended it*: this callback, the last epoch, Ctrl-C or
    an error such as ``TrainingDiverged``. Afterwards ``best_epoch``, ``best``,
    ``stopped_epoch`` (``None`` unless this callback stopped training),
    ``restored_epoch`` and ``message`` tell what happened; ``message`` is also
    logged to the ``"tinynet"`` logger and printed when ``verbose``.

    ``monitor`` names a key of the epoch logs: ``"loss"``, a metric such as
    ``"accuracy"``, or its validation twin ``"val_loss"``/``"val_accuracy"``
    (those need ``fit(..., validation_data=(x, y))``).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best: bool = True,
        verbose: bool = True,
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"EarlyStopping monitor must be a log name such as 'val_loss', got {monitor!r}")
        self.monitor = monitor
        self.patience = check_int(patience, "EarlyStopping patience", minimum=0)
        self.min_delta = check_number(min_delta, "EarlyStopping min_delta", low=0)
        self.mode = check_choice(mode, "EarlyStopping mode", ("auto", "min", "max"))
        if self.mode == "auto":
            self.mode = "max" if any(h in monitor.lower() for h in MAX_HINTS) else "min"
        self.restore_best = bool(restore_best)
        self.verbose = bool(verbose)
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.restored_epoch: int | None = None
        self.wait = 0
        self.message = ""
        self._best_state: list[NDArray[Any]] | None = None

    def on_train_begin(self, run: Run) -> None:
        self._reset()
        self.run = run
        # Other callbacks may add log keys, but val_* ones need validation data: say so now.
        if self.monitor.startswith("val_") and "val_loss" not in run.log_names:
            self._missing_monitor(run.log_names)

    def _missing_monitor(self, names: list[str]) -> None:
        hint = (" (pass validation_data=(x_val, y_val) to fit)"
                if self.monitor.startswith("val_") else "")
        raise ValueError(f"EarlyStopping monitors {self.monitor!r}, but the epoch logs only have "
                         f"{sorted(names)}{hint}")

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            self._missing_monitor(list(logs))
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self._best_state = [a.copy() for a in model_state(self.run.model)]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.run.stop_training = True

    def _improved(self, value: float) -> bool:
        if not np.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_end(self, logs: dict[str, Any]) -> None:
        parts = []
        if self.stopped_epoch is not None:
            by = f" by more than {self.min_delta:g}" if self.min_delta else ""
            parts.append(f"stopped after epoch {self.stopped_epoch}: {self.monitor} did not improve"
                         f"{by} for {self.wait} epochs")
        if self.best_epoch is None:
            parts.append(f"no epoch completed with a finite {self.monitor}; weights left as they are")
        elif self.restore_best and self._best_state is not None:
            for array, saved in zip(model_state(self.run.model), self._best_state):
                array[...] = saved
            self.restored_epoch = self.best_epoch
            parts.append(f"restored the weights of epoch {self.best_epoch} "
                         f"({self.monitor} {self.best:.6g})")
        else:
            parts.append(f"best epoch {self.best_epoch} ({self.monitor} {self.best:.6g}); "
                         f"weights of the last epoch kept")
        self._best_state = None  # free the copy
        self.message = "EarlyStopping: " + "; ".join(parts)
        logger.info(self.message)
        if self.verbose:
            from tinynet.progress import get_console

            get_console().print(self.message, markup=False, highlight=False, soft_wrap=True)

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, mode={self.mode!r}, restore_best={self.restore_best})")


def model_state(model: Any) -> list[NDArray[Any]]:
    """Every array that defines a trained model: each parameter's ``data``, then
    every layer's buffers (``named_buffers()``: BatchNorm's running statistics).
    The arrays themselves, not copies: writing into them changes the model."""
    return [p.data for p in model.parameters()] + [array for _, array in named_buffers_of(model)]


class RestoreOnInterrupt(Callback):
    """If training is interrupted (Ctrl-C) mid-epoch, put back the weights of the
    last *completed* epoch (or the starting weights), so that what is kept or saved
    is a model from an epoch boundary, never a partial epoch.

    It copies the model's arrays (see :func:`model_state`) after every epoch: one
    pass over the parameters per epoch. The optimizer's state is not rolled back.
    """

    def on_train_begin(self, run: Run) -> None:
        self.run = run
        self.restored_epoch: int | None = None
        self._epoch = 0
        self._saved = [a.copy() for a in model_state(run.model)]

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self._epoch = epoch
        for kept, now in zip(self._saved, model_state(self.run.model)):
            np.copyto(kept, now)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.run.history.interrupted:
            for now, kept in zip(model_state(self.run.model), self._saved):
                np.copyto(now, kept)
            self.restored_epoch = self._epoch
