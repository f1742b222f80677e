"""`ParameterGuard`: the last parameter values known to be good, put back when training
diverges, so a `TrainingDiverged` never leaves NaN or inf weights behind.

An update that overflows (a huge learning rate) turns parameters into inf or NaN; the
loss of the *next* forward shows it. Checking every parameter after every update would
cost a pass over all of them per step, so the guard keeps the values an epoch started
from instead, and trusts them once that epoch's first loss came out finite: one copy of
the parameters per epoch, or per ``COPY_STEPS`` steps when epochs are shorter (an epoch of
a few small steps would otherwise spend a good part of its time copying).

A loss can also explode while staying finite (1e127 is a float64); :func:`exploded`
catches that once per epoch, and :func:`divergence_advice` says what to try from the
data's scale: unscaled inputs, an unscaled regression target, or else the learning rate.
"""

from __future__ import annotations

from math import isfinite
from typing import TYPE_CHECKING, Any

import numpy as np

from tinynet.engine.types import Array
from tinynet.layers.parameter import Parameter

if TYPE_CHECKING:
    from tinynet.training.callbacks import History

__all__ = ["TrainingDiverged", "ParameterGuard", "exploded", "explosion_limit", "divergence_advice"]

COPY_STEPS = 32  # the guard copies the parameters at most once per this many steps


class TrainingDiverged(RuntimeError):
    """A batch's loss became NaN or inf (or, after the last update, a parameter did); the
    step was not applied.

    ``history`` holds the epochs completed before it; ``epoch`` and ``batch``
    say where it happened. If an earlier update had already turned parameters into
    NaN or inf, they were put back to their values at the start of epoch
    ``restored_epoch`` (else it is ``None`` and the parameters are the last update's).
    The optimizer's own state (momentum, moments) is not rolled back.
    """

    def __init__(self, epoch: int, batch: int, value: float, lr: float | None,
                 history: History, restored_epoch: int | None = None, *, advice: str = "",
                 start: float | None = None) -> None:
        hint = f" (lr={lr:g})" if lr is not None else ""
        if start is not None:  # finite, but exploding: caught at the end of an epoch
            what = f"the loss grew from {start:.3g} to {value:.3g} by the end of epoch {epoch}"
        else:
            what = (f"the loss became {value}" if isfinite(value) or value == value else
                    "the loss or the parameters became nan") + f" at epoch {epoch}, batch {batch}"
        done = ("the update was not applied" if restored_epoch is None and start is None else
                f"the parameters were restored to their values at the start of epoch {restored_epoch}"
                if start is not None else
                f"an update had made parameters NaN or inf, so they were restored to their values "
                f"at the start of epoch {restored_epoch}")
        advice = advice or f"Try a smaller learning rate{hint} or standardize the inputs."
        super().__init__(f"training diverged: {what}; {done}. {advice}")
        self.epoch, self.batch, self.value, self.history = epoch, batch, value, history
        self.restored_epoch = restored_epoch
        self.advice = advice


class ParameterGuard:
    """Keeps the parameters' values from the start of the latest copied epoch whose first
    loss was finite (every epoch is copied when it has ``COPY_STEPS`` steps or more).

    In ``fit``: :meth:`begin_epoch` before an epoch's first step; :meth:`trust` once its
    first loss is known to be finite (at its end, or when a later batch diverges); on
    divergence :meth:`broken` / :meth:`restore`.
    """

    def __init__(self, params: list[Parameter], optimizer: Any = None, steps_per_epoch: int = 1) -> None:
        self.params = params
        self.every = max(1, -(-COPY_STEPS // max(steps_per_epoch, 1)))  # epochs between copies
        # An optimizer that keeps exactly these parameters in flat buffers: one copy per buffer
        flat = getattr(optimizer, "flat_buffers", None)
        same = {id(p) for p in getattr(optimizer, "params", ())} == {id(p) for p in params}
        self._flat = flat if callable(flat) and same and flat() is not None else None
        self._good = [values.copy() for values in self._arrays()]  # the values fit started from
        self._candidate = [np.empty_like(values) for values in self._good]
        self.good_epoch = 1  # the epoch that started from the good values
        self._candidate_epoch = 1
        self._trusted = True  # whether the candidate values are the good ones already

    def _arrays(self) -> list[Array]:
        """The live arrays that hold the parameters' values."""
        return self._flat() if self._flat is not None else [p.data for p in self.params]

    def begin_epoch(self, epoch: int) -> None:
        """Copy the values epoch ``epoch`` starts from (trusted only after :meth:`trust`),
        if it is one of every ``self.every`` epochs (1, 1 + every, ...)."""
        if (epoch - 1) % self.every:
            return
        for saved, values in zip(self._candidate, self._arrays()):
            np.copyto(saved, values)
        self._candidate_epoch = epoch
        self._trusted = False

    def trust(self) -> None:
        """The epoch's first loss was finite: its starting values become the good ones
        (once: a second call changes nothing)."""
        if not self._trusted:
            self._good, self._candidate = self._candidate, self._good
            self.good_epoch = self._candidate_epoch
            self._trusted = True

    def broken(self) -> bool:
        """Whether any parameter holds NaN or inf."""
        return not all(np.isfinite(p.data).all() for p in self.params)

    def restore(self) -> int:
        """Write the good values back into the parameters; return the epoch they started."""
        for values, saved in zip(self._arrays(), self._good):
            np.copyto(values, saved)
        return self.good_epoch


EXPLODED = 1e6  # a finite loss this many times the first batch's has diverged


def explosion_limit(batch_losses: list[float]) -> float:
    """The epoch loss above which training has diverged though finite: ``EXPLODED`` times the
    first batch's loss (a float64 loss can grow to 1e300 before it overflows); ``inf`` before
    any batch."""
    return EXPLODED * max(batch_losses[0], 1e-12) if batch_losses else float("inf")


def exploded(batch_losses: list[float], epoch_loss: float) -> bool:
    """Whether ``epoch_loss`` exceeds :func:`explosion_limit` of ``batch_losses``."""
    return epoch_loss > explosion_limit(batch_losses)


LARGE_SCALE = 10.0  # a column std (or mean) above this is not standardized


def divergence_advice(loader: Any, loss: Any, lr: float | None) -> str:
    """What to try, from the data's scale: unscaled inputs (their first batch's column std
    or mean above ``LARGE_SCALE``), an unscaled target for a regression loss, else the
    learning rate."""
    lr_hint = f"Try a smaller learning rate (now lr={lr:g})" if lr is not None else \
        "Try a smaller learning rate"
    advice = []
    rows = min(loader.n_samples, 1024)
    for array in loader.arrays:
        if array.dtype.kind != "f" or array.ndim < 2:
            continue
        first = np.asarray(array[:rows], dtype=np.float64).reshape(rows, -1)
        scale = float(max(first.std(axis=0).max(), np.abs(first.mean(axis=0)).max()))
        if scale > LARGE_SCALE:
            advice.append(f"The inputs are not standardized (a column's std or mean reaches {scale:.3g}): "
                          f"standardize them, e.g. (x - x.mean(0)) / x.std(0) with the training rows' "
                          f"statistics.")
            break
    if getattr(loss, "task", None) == "regression" and loader.y.dtype.kind in "fiu":
        y = np.asarray(loader.y[:rows], dtype=np.float64)
        scale = float(max(y.std(), np.abs(y).mean()))
        if scale > LARGE_SCALE:
            advice.append(f"The regression target is not standardized (std or mean magnitude {scale:.3g}): "
                          f"fit on (y - y.mean()) / y.std() and map predictions back.")
    return " ".join([*advice, lr_hint + "."]) if advice else lr_hint + "; the data's scale looks fine."
