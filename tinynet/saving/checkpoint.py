"""`ModelCheckpoint`: save the model during ``fit`` (every epoch, or each new best) with the
atomic :func:`tinynet.save`. It lives at the saving level, which may import training; the
training loop knows nothing of files."""

from __future__ import annotations

import math
import os

from tinynet.saving.files import save
from tinynet.training.callbacks import Run
from tinynet.training.monitor import MonitorCallback

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(MonitorCallback):
    """Save the model to ``path`` after an epoch (Keras's ``ModelCheckpoint``).

    ``save_best_only=True``: only when ``monitor`` beats the best so far by more than
    ``min_delta`` (``mode`` as :class:`tinynet.EarlyStopping`), so the file always holds the
    best epoch's model; ``False``: after every epoch (the file holds the last one). ``path``
    may hold format fields, ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``, filled from the epoch
    and its logs: one file per save. Each write goes through :func:`tinynet.save` (a
    temporary file renamed into place: an interrupted save never leaves a broken file); the
    epoch and its logs are stored as metadata (``tinynet.saving.files.load_with_metadata``).
    ``saved`` lists ``(epoch, path)`` of every save.
    """

    def __init__(self, path: str | os.PathLike[str], monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", min_delta: float = 0.0) -> None:
        super().__init__(monitor, mode, min_delta, owner="ModelCheckpoint")
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint path must be a file path, got {type(path).__name__}")
        if not isinstance(save_best_only, bool):
            raise TypeError(f"ModelCheckpoint save_best_only must be True or False, got {save_best_only!r}")
        self.path, self.save_best_only = os.fspath(path), save_best_only
        self.saved: list[tuple[int, str]] = []

    def on_train_begin(self, run: Run) -> None:
        if self.save_best_only:
            super().on_train_begin(run)  # checks that the monitored value will be there
        else:  # every epoch is saved: nothing is monitored
            self.reset()
            self.run = run

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self._logs = logs
        if self.save_best_only:
            super().on_epoch_end(epoch, logs)  # tracks the best, then after_epoch
        else:
            self._save(epoch, logs)

    def after_epoch(self, epoch: int, improved: bool) -> None:
        if improved:
            self._save(epoch, self._logs)

    def _save(self, epoch: int, logs: dict[str, float]) -> None:
        try:
            path = self.path.format(epoch=epoch, **logs)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"ModelCheckpoint path {self.path!r} has a field the epoch logs cannot fill "
                             f"({err}); the logs are {sorted(logs)} and epoch") from None
        save(self.run.model, path, metadata={"epoch": epoch, **{k: float(v) for k, v in logs.items()
                                                               if math.isfinite(v)}})
        self.saved.append((epoch, path))

    def __repr__(self) -> str:
        return (f"ModelCheckpoint({self.path!r}, monitor={self.monitor!r}, "
                f"save_best_only={self.save_best_only}, mode={self.mode!r})")
