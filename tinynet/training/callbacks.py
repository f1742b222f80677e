"""The callback protocol of the training loop, and `History`.

``fit`` calls, in order: ``on_train_begin(run)``; per epoch
``on_epoch_begin(epoch)``, ``on_batch_end(batch, loss, size)`` after every
step, ``on_epoch_end(epoch, logs)``; finally ``on_train_end(logs)`` (also
after an interruption or an error). Epochs and batches count from 1.
A callback stops training by setting ``run.stop_training = True``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tinynet.layers.base import LayerLike

__all__ = ["Callback", "CallbackList", "Run", "History", "PROGRESS_MODES", "register_display",
           "display_callbacks"]

PROGRESS_MODES = ("auto", "bar", "epoch", "none")  # fit's display choices (tinynet.display.progress)


@dataclass
class Run:
    """What the loop shares with its callbacks about the training run."""

    model: LayerLike
    loss: Any
    optimizer: Any
    epochs: int
    steps_per_epoch: int
    history: History
    metric_names: list[str] = field(default_factory=list)
    log_names: list[str] = field(default_factory=list)  # the keys each epoch's logs will have
    stop_training: bool = False
    notes: list[str] = field(default_factory=list)  # what callbacks tell the user; the display prints them


class Callback:
    """Base class with no-op hooks; override the ones you need."""

    def on_train_begin(self, run: Run) -> None:
        """Called once before the first epoch."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Called before the epoch's first batch."""

    def on_batch_end(self, batch: int, loss: float, size: int) -> None:
        """Called after each optimizer step with the batch's mean loss and row count."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Called after each epoch with its logs (``loss``, metrics, ``val_*``)."""

    def on_train_end(self, logs: dict[str, Any]) -> None:
        """Called once at the end, whatever ended training."""


class History(Callback):
    """Per-epoch logs of one ``fit`` call.

    ``history.loss`` is each epoch's loss averaged over its samples (the mean
    of the batch losses when batches are equal); ``history.batch_loss`` keeps
    every batch's (``fit`` appends each as it comes, before the batch callbacks); other
    keys (``accuracy``, ``val_loss``, ...) are in ``history.history`` and readable as ``history["val_loss"]``.
    ``history.restored_epoch`` is the epoch whose weights the model holds after
    ``EarlyStopping(restore_best=True)`` put them back (else ``None``).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {"loss": []}
        self.batch_loss: list[float] = []
        self.epochs: list[int] = []
        self.interrupted = False
        self.seconds = 0.0
        self.restored_epoch: int | None = None  # set when a callback put back an earlier epoch's weights

    @property
    def loss(self) -> list[float]:
        return self.history["loss"]

    @property
    def accuracy(self) -> list[float]:
        return self.history.get("accuracy", [])

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; it has {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epochs)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append(epoch)
        history = self.history
        for key, value in logs.items():
            if key in history:
                history[key].append(value)
            else:
                history[key] = [value]

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epochs)}, last={last})"


class CallbackList:
    """The callbacks of one ``fit``, called as one.

    Each hook goes only to the callbacks that override it (a base-class no-op
    would still cost a call per batch), and ``train_end`` reaches exactly the
    callbacks whose ``on_train_begin`` ran, whatever ended training.
    """

    def __init__(self, callbacks: list[Callback]) -> None:
        self.callbacks = list(callbacks)
        self._begun: list[Callback] = []
        self._epoch_begin = _hooks(self.callbacks, "on_epoch_begin")
        self._batch_end = _hooks(self.callbacks, "on_batch_end")
        self._epoch_end = _hooks(self.callbacks, "on_epoch_end")
        # fit skips a hook that no callback has (it is called per batch or per epoch)
        self.has_epoch_begin, self.has_batch_end = bool(self._epoch_begin), bool(self._batch_end)
        self.has_epoch_end = bool(self._epoch_end)
        if len(self._batch_end) == 1:  # no loop per batch
            self.batch_end = self._batch_end[0]  # type: ignore[method-assign]

    def train_begin(self, run: Run) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(run)
            self._begun.append(callback)

    def epoch_begin(self, epoch: int) -> None:
        for hook in self._epoch_begin:
            hook(epoch)

    def batch_end(self, batch: int, loss: float, size: int) -> None:
        for hook in self._batch_end:
            hook(batch, loss, size)

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        for hook in self._epoch_end:
            hook(epoch, logs)

    def train_end(self, logs: dict[str, Any]) -> None:
        for callback in self._begun:
            callback.on_train_end(logs)


def _hooks(callbacks: list[Callback], name: str) -> list[Callable[..., None]]:
    """The bound ``name`` hooks of the callbacks that override the base class's no-op."""
    return [getattr(cb, name) for cb in callbacks if getattr(type(cb), name) is not getattr(Callback, name)]


DisplayFactory = Callable[[str], list[Callback]]
_display: list[DisplayFactory] = []


def register_display(factory: DisplayFactory) -> None:
    """Install the function that turns ``fit(progress=mode)`` into display callbacks.

    :mod:`tinynet.display.progress` registers itself when imported (``import tinynet``
    does), so training never imports display code: the dependency points upwards.
    """
    _display[:] = [factory]


def display_callbacks(mode: str) -> list[Callback]:
    """The display callbacks for ``mode``; none when no display is installed."""
    return _display[0](mode) if _display else []

