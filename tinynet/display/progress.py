"""The training display, as callbacks: a rich live bar in a terminal or a notebook,
plain lines elsewhere (CI logs, pipes, files), and a summary table at the end.

In a narrow terminal the epoch count, elapsed time and ETA keep their room; the
bar shrinks and the metrics give way, whole entries first (``…`` marks those
left out). After ``EarlyStopping(restore_best=True)`` the final table shows the
restored epoch's figures, marked as such. Losses print compactly (``1.23e+127``).

Redraws are throttled by time (at most ``REFRESH_SECONDS`` apart), so the
display costs a time check per batch, whatever the batch rate.
"""

from __future__ import annotations

import io
import time
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from tinynet.display.console import get_console
from tinynet.display.notebook import NotebookOutput, rich_bundle
from tinynet.display.numbers import format_loss, format_value
from tinynet.training.callbacks import PROGRESS_MODES, Callback, History, Run, register_display

__all__ = ["PROGRESS_MODES", "make_display", "get_console", "RichProgress", "NotebookProgress", "EpochLines",
           "Notes", "FittedEntries", "format_logs", "summary_table"]

REFRESH_SECONDS = 0.1
BATCH_BAR_MIN_STEPS = 50  # show a bar inside the epoch only when epochs are long
PLAIN_LINES_TARGET = 50  # "auto" outside a terminal prints about this many epoch lines
GAP = "  "  # between two log entries
BAR_WIDTHS = (10, 40)  # the progress bar's narrowest and widest

def make_display(mode: str, console: Console | None = None) -> list[Callback]:
    """The callbacks that show progress for ``mode``; ``"none"`` shows only the notes
    other callbacks leave in ``run.notes`` (an early stop, a restore)."""
    console = console or get_console()
    if mode == "none":
        return [Notes(console)]
    if console.is_jupyter and mode in ("bar", "auto"):
        return [NotebookProgress(console)]
    if mode == "bar" or (mode == "auto" and console.is_terminal):
        return [RichProgress(console)]
    return [EpochLines(console, every=1 if mode == "epoch" else None)]


def log_entries(logs: dict[str, float]) -> list[str]:
    """``["loss 0.123456", "accuracy 0.9500"]`` for a logs dict (losses compact when huge)."""
    return [f"{key} {format_value(key, value)}" for key, value in logs.items()]


def format_logs(logs: dict[str, float]) -> str:
    """``loss 0.123456  accuracy 0.9500`` for a logs dict."""
    return GAP.join(log_entries(logs))


class FittedEntries:
    """Entries joined by two spaces, as many as fit the width rich gives them; a ``…``
    stands for the entries left out (a last entry too wide is cut short)."""

    def __init__(self, entries: list[str]) -> None:
        self.entries = entries

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(1, len(self.entries)), len(GAP.join(self.entries)))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, shown = options.max_width, ""
        for count in range(len(self.entries), 0, -1):
            shown = GAP.join(self.entries[:count]) + ("" if count == len(self.entries) else GAP + "…")
            if len(shown) <= width:
                break
        yield Text(shown, no_wrap=True, overflow="ellipsis", end="")


def bar_width(width: int, run: Run) -> int:
    """The bar's width in a console ``width`` wide: what the fixed columns and the run's
    full log line leave, between ``BAR_WIDTHS``."""
    digits = len(str(run.epochs))
    fixed = len("epoch") + 2 * digits + 1 + len("0:00:00 eta 0:00:00") + 5  # 5: the gaps
    logs = sum(len(name) + 9 for name in run.log_names) + len(GAP) * (len(run.log_names) - 1)
    return max(BAR_WIDTHS[0], min(BAR_WIDTHS[1], width - fixed - logs - 2))


class LogsColumn(ProgressColumn):
    """The task's log entries (its ``entries`` field), fitted to the room left."""

    def render(self, task: Task) -> FittedEntries:
        return FittedEntries(task.fields.get("entries", []))


def summary_table(history: History, seconds: float) -> Table:
    """A small table: epochs run, the final figures, time. After a restore (``EarlyStopping``
    putting back its best epoch) the figures are the restored epoch's, and the table says so."""
    title = "training interrupted" if history.interrupted else "training finished"
    keys = [k for k, v in history.history.items() if v]
    shown, caption, epoch = len(history) - 1, None, str(len(history))
    restored = history.restored_epoch
    if restored is not None and restored in history.epochs and restored != history.epochs[-1]:
        shown, epoch = history.epochs.index(restored), f"{restored}*"
        caption = f"*the restored epoch's figures (the model holds its weights); {len(history)} epochs ran"
    table = Table(title=title, caption=caption, show_header=True, header_style="bold")
    cells = {"epochs" if caption is None else "epoch": epoch}
    cells |= {key: format_value(key, history.history[key][shown]) if len(history.history[key]) > shown
              else "-" for key in keys}
    cells["time"] = f"{seconds:.2f}s"
    for header, cell in cells.items():  # a narrow terminal shortens the headers, never the figures
        table.add_column(Text(header, no_wrap=True, overflow="ellipsis"), justify="right",
                         min_width=len(cell))
    table.add_row(*cells.values())
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
        # The metrics (the only flexible column) take the room left by the fixed columns
        # and a bar sized for this console, so a narrow terminal squeezes them first.
        self._progress = Progress(
            TextColumn("[bold]{task.description}", table_column=Column(no_wrap=True)),
            BarColumn(bar_width=bar_width(self.console.width, run)),
            MofNCompleteColumn(table_column=Column(no_wrap=True)),
            TimeElapsedColumn(table_column=Column(no_wrap=True)),
            TextColumn("eta", table_column=Column(no_wrap=True)),
            TimeRemainingColumn(table_column=Column(no_wrap=True)),
            LogsColumn(table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")),
            console=self._live_console(), auto_refresh=False, transient=False, expand=True,
        )
        self._progress.start()
        self._epochs: TaskID = self._progress.add_task("epoch", total=run.epochs, entries=[])
        self._batches: TaskID | None = None
        if run.steps_per_epoch >= BATCH_BAR_MIN_STEPS:
            self._batches = self._progress.add_task("batch", total=run.steps_per_epoch, entries=[])
        self._last_draw = 0.0
        self._done = 0
        self._logs: dict[str, float] = {}

    def _live_console(self) -> Console:
        """The console the live display draws on."""
        return self.console

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
        progress.update(self._epochs, completed=self._done, entries=log_entries(self._logs))
        if self._batches is not None and batch is not None:
            running = [f"loss (epoch avg) {format_loss(self._sum / self._seen)}"]
            if self._new_epoch:  # reset restarts the bar's clock, and redraws by itself
                self._new_epoch = False
                progress.reset(self._batches, total=self.run.steps_per_epoch, completed=batch,
                               entries=running)
                return
            progress.update(self._batches, completed=batch, entries=running)
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


class NotebookProgress(RichProgress):
    """:class:`RichProgress` drawn into a notebook output: each redraw (throttled as in a
    terminal) replaces the output with the bar's current frame. rich's own live display
    needs ``ipywidgets`` in a notebook (without it, it warns and shows nothing); a display
    handle needs only IPython, and the notebook keeps the last frame as HTML and text."""

    def on_train_begin(self, run: Run) -> None:
        self._output = NotebookOutput()
        super().on_train_begin(run)

    def _live_console(self) -> Console:
        # rich's live display stays off screen; the frames reach the notebook through _draw
        return Console(file=io.StringIO(), width=self.console.width, force_jupyter=False)

    def _draw(self, batch: int | None) -> None:
        super()._draw(batch)
        if self._progress is not None:
            self._output.show(rich_bundle(self._progress.get_renderable(), self.console.width))


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
