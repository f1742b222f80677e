"""`EarlyStopping`: stop when a monitored value stops improving; keep the best weights.
`RestoreOnInterrupt`: after Ctrl-C, put back the weights of the last completed epoch."""

from __future__ import annotations

import logging
from typing import Any

from tinynet.engine.checks import check_int
from tinynet.layers.state import Snapshot
from tinynet.training.callbacks import Callback, Run
from tinynet.training.monitor import MonitorCallback

__all__ = ["EarlyStopping", "RestoreOnInterrupt"]

logger = logging.getLogger("tinynet")


class EarlyStopping(MonitorCallback):
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
        super().__init__(monitor, mode, min_delta, restore_best, owner="EarlyStopping")
        self.patience = check_int(patience, "EarlyStopping patience", minimum=0)
        self.verbose = bool(verbose)

    def reset(self) -> None:
        super().reset()
        self.stopped_epoch: int | None = None
        self.wait = 0
        self.message = ""

    def after_epoch(self, epoch: int, improved: bool) -> None:
        if improved:
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.run.stop_training = True

    def on_train_end(self, logs: dict[str, Any]) -> None:
        parts = []
        if self.stopped_epoch is not None:
            by = f" by more than {self.min_delta:g}" if self.min_delta else ""
            parts.append(f"stopped after epoch {self.stopped_epoch}: {self.monitor} did not improve"
                         f"{by} for {self.wait} epochs")
        if self.best_epoch is None:
            parts.append(f"no epoch completed with a finite {self.monitor}; weights left as they are")
        elif self.restore_best and self.restore():
            parts.append(f"restored the weights of epoch {self.best_epoch} "
                         f"({self.monitor} {self.best:.6g})")
        else:
            parts.append(f"best epoch {self.best_epoch} ({self.monitor} {self.best:.6g}); "
                         f"weights of the last epoch kept")
        self.message = "EarlyStopping: " + "; ".join(parts)
        logger.info(self.message)
        if self.verbose:
            self.run.notes.append(self.message)

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, mode={self.mode!r}, restore_best={self.restore_best})")


class RestoreOnInterrupt(Callback):
    """If training is interrupted (Ctrl-C) mid-epoch, put back the weights of the
    last *completed* epoch (or the starting weights), so that what is kept or saved
    is a model from an epoch boundary, never a partial epoch.

    It copies the model's state (a :class:`~tinynet.layers.state.Snapshot`) after
    every epoch: one pass over the parameters per epoch. The optimizer's state is
    not rolled back.
    """

    def on_train_begin(self, run: Run) -> None:
        self.run = run
        self.restored_epoch: int | None = None
        self._epoch = 0
        self._snapshot = Snapshot(run.model)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self._epoch = epoch
        self._snapshot.update()

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.run.history.interrupted:
            self._snapshot.restore()
            self.restored_epoch = self._epoch
