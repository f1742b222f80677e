"""The training display, as callbacks: a rich live bar in a terminal, plain
lines elsewhere (CI logs, pipes, files), and a summary table at the end.

Redraws are throttled by time (at most ``REFRESH_SECONDS`` apart), so the
display costs a time check per batch, whatever the batch rate.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from tinynet.display.console import get_console
from tinynet.training.callbacks import PROGRESS_MODES, Callback, History, Run, register_display

__all__ = ["PROGRESS_MODES", "make_display", "get_console", "RichProgress", "EpochLines", "Notes"]

REFRESH_SECONDS = 0.1
BATCH_BAR_MIN_STEPS = 50  # show a bar inside the epoch only when epochs are long
PLAIN_LINES_TARGET = 50  # "auto" outside a terminal prints about this many epoch lines

def make_display(mode: str, console: Console | None = None) -> list[Callback]:
    """The callbacks that show progress for ``mode``; ``"none"`` shows only the notes
    other callbacks leave in ``run.notes`` (an early stop, a restore)."""
    console = console or get_console()
    if mode == "none":
        return [Notes(console)]
    if mode == "bar" or (mode == "auto" and (console.is_terminal or console.is_jupyter)):
        return [RichProgress(console)]
    return [EpochLines(console, every=1 if mode == "epoch" else None)]


def format_logs(logs: dict[str, float]) -> str:
    """``loss 0.123456  accuracy 0.9500`` for a logs dict."""
    return "  ".join(f"{key} {value:.6f}" if "loss" in key else f"{key} {value:.4f}"
                     for key, value in logs.items())


def summary_table(history: History, seconds: float) -> Table:
    """A small table: epochs run, final loss and metrics, time."""
    title = "training interrupted" if history.interrupted else "training finished"
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("epochs", justify="right")
    keys = [k for k, v in history.history.items() if v]
    for key in keys:
        table.add_column(key, justify="right")
    table.add_column("time", justify="right")
    table.add_row(str(len(history)), *[f"{history.history[k][-1]:.4f}" for k in keys],
                  f"{seconds:.2f}s")
    return table


class Notes(Callback):
    """Prints what other callbacks left in ``run.notes`` when training ends."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_train_begin(self, run: Run) -> None:
        self.run = run

    def on_train_end(self, logs: dict[str, Any]) -> None:
        for note in self.run.notes:
            self.console.print(note, markup=False, highlight=False, soft_wrap=True)


class RichProgress(Notes):
    """A live display: epoch bar with elapsed time and ETA, the running epoch
    loss and the metrics, and a batch bar when epochs have many batches."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None

    def on_train_begin(self, run: Run) -> None:
        self.run = run
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=self.console, auto_refresh=False, transient=False,
        )
        self._progress.start()
        self._epochs: TaskID = self._progress.add_task("epoch", total=run.epochs, info="")
        self._batches: TaskID | None = None
        if run.steps_per_epoch >= BATCH_BAR_MIN_STEPS:
            self._batches = self._progress.add_task("batch", total=run.steps_per_epoch, info="")
        self._last_draw = 0.0
        self._done = 0
        self._logs: dict[str, float] = {}

    def on_epoch_begin(self, epoch: int) -> None:
        self._sum, self._seen = 0.0, 0
        self._new_epoch = True

    def on_batch_end(self, batch: int, loss: float, size: int) -> None:
        self._sum += loss * size
        self._seen += size
        if time.perf_counter() - self._last_draw >= REFRESH_SECONDS:
            self._draw(batch)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self._done, self._logs = epoch, logs
        if time.perf_counter() - self._last_draw >= REFRESH_SECONDS or epoch == self.run.epochs:
            self._draw(None)

    def _draw(self, batch: int | None) -> None:
        """Push the latest numbers into the bars and redraw (formatting happens only here)."""
        progress = self._progress
        if progress is None:
            return
        self._last_draw = time.perf_counter()
        progress.update(self._epochs, completed=self._done, info=format_logs(self._logs))
        if self._batches is not None and batch is not None:
            running = f"loss (epoch avg) {self._sum / self._seen:.4f}"
            if self._new_epoch:  # reset restarts the bar's clock, and redraws by itself
                self._new_epoch = False
                progress.reset(self._batches, total=self.run.steps_per_epoch, completed=batch,
                               info=running)
                return
            progress.update(self._batches, completed=batch, info=running)
        progress.refresh()

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self._progress is None:
            return
        if self._batches is not None:  # the finished epoch bar says it all
            self._progress.remove_task(self._batches)
            self._batches = None
        self._draw(None)
        self._progress.stop()
        self._progress = None
        super().on_train_end(logs)
        self.console.print(summary_table(logs["history"], logs["seconds"]))


class EpochLines(Notes):
    """One plain line per epoch (or every ``every`` epochs), never a carriage return."""

    def __init__(self, console: Console, every: int | None = 1) -> None:
        self.console = console
        self.every = every

    def on_train_begin(self, run: Run) -> None:
        self.run = run
        self._every = self.every or max(1, -(-run.epochs // PLAIN_LINES_TARGET))
        self._width = len(str(run.epochs))
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch % self._every and epoch not in (1, self.run.epochs):
            return
        seconds = time.perf_counter() - self._start
        self.console.print(f"epoch {epoch:>{self._width}}/{self.run.epochs}  {format_logs(logs)}"
                           f"  {seconds:.1f}s", markup=False, highlight=False, soft_wrap=True)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        super().on_train_end(logs)
        self.console.print(summary_table(logs["history"], logs["seconds"]))


register_display(make_display)
