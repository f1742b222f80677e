"""`CSVLogger`: one line per epoch of the epoch logs, written as training goes."""

from __future__ import annotations

import csv
import os
from typing import IO, Any

from tinynet.training.callbacks import Callback, Run

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Write ``epoch`` and every epoch log (``loss``, metrics, ``val_*``) to the CSV file
    ``path``, one row per epoch, flushed at once (Keras's ``CSVLogger``): a crashed or
    interrupted run keeps the epochs it finished.

    ``append=True`` adds to an existing file (its header is kept: a second ``fit`` continues
    the table); otherwise the file is started afresh. ``separator``: the column delimiter.
    Values are written at full precision (``repr``), so the file reads back exactly.
    """

    def __init__(self, path: str | os.PathLike[str], append: bool = False, separator: str = ",") -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"CSVLogger path must be a file path, got {type(path).__name__}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger separator must be one character, got {separator!r}")
        self.path, self.append, self.separator = os.fspath(path), bool(append), separator
        self._file: IO[str] | None = None

    def on_train_begin(self, run: Run) -> None:
        self.columns = ["epoch", *run.log_names]
        continuing = self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0
        self._file = open(self.path, "a" if self.append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._file, delimiter=self.separator)
        if not continuing:
            self._writer.writerow(self.columns)
            self._file.flush()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self._file is None:
            return
        self._writer.writerow([epoch, *(repr(float(logs[k])) if k in logs else "" for k in self.columns[1:])])
        self._file.flush()

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __repr__(self) -> str:
        return f"CSVLogger({self.path!r}, append={self.append})"
