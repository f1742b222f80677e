"""`ParameterGuard`: the last parameter values known to be good, put back when training
diverges, so a `TrainingDiverged` never leaves NaN or inf weights behind.

An update that overflows (a huge learning rate) turns parameters into inf or NaN; the
loss of the *next* forward shows it. Checking every parameter after every update would
cost a pass over all of them per step, so the guard keeps the values each epoch started
from instead, and trusts them once that epoch's first loss came out finite: one copy of
the parameters per epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.types import Array
from tinynet.layers.parameter import Parameter

__all__ = ["ParameterGuard"]


class ParameterGuard:
    """Keeps the parameters' values from the start of the latest epoch whose first loss was finite.

    In ``fit``: :meth:`begin_epoch` before an epoch's first step, :meth:`trust` once its
    first loss is finite, and on divergence :meth:`broken` / :meth:`restore`.
    """

    def __init__(self, params: list[Parameter], optimizer: Any = None) -> None:
        self.params = params
        # An optimizer that keeps exactly these parameters in flat buffers: one copy per buffer
        flat = getattr(optimizer, "flat_buffers", None)
        same = {id(p) for p in getattr(optimizer, "params", ())} == {id(p) for p in params}
        self._flat = flat if callable(flat) and same and flat() is not None else None
        self._good = [values.copy() for values in self._arrays()]  # the values fit started from
        self._candidate = [np.empty_like(values) for values in self._good]
        self.good_epoch = 1  # the epoch that started from the good values
        self._candidate_epoch = 1

    def _arrays(self) -> list[Array]:
        """The live arrays that hold the parameters' values."""
        return self._flat() if self._flat is not None else [p.data for p in self.params]

    def begin_epoch(self, epoch: int) -> None:
        """Copy the values the epoch starts from (trusted only after :meth:`trust`)."""
        for saved, values in zip(self._candidate, self._arrays()):
            np.copyto(saved, values)
        self._candidate_epoch = epoch

    def trust(self) -> None:
        """The epoch's first loss was finite: its starting values become the good ones."""
        self._good, self._candidate = self._candidate, self._good
        self.good_epoch = self._candidate_epoch

    def broken(self) -> bool:
        """Whether any parameter holds NaN or inf."""
        return not all(np.isfinite(p.data).all() for p in self.params)

    def restore(self) -> int:
        """Write the good values back into the parameters; return the epoch they started."""
        for values, saved in zip(self._arrays(), self._good):
            np.copyto(values, saved)
        return self.good_epoch
