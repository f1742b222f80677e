"""`ParameterGuard`: the last parameter values known to be good, put back when training
diverges, so a `TrainingDiverged` never leaves NaN or inf weights behind.

An update that overflows (a huge learning rate) turns parameters into inf or NaN; the
loss of the *next* forward shows it. Checking every parameter after every update would
cost a pass over all of them per step, so the guard keeps the values each epoch started
from instead, and trusts them once that epoch's first loss came out finite: one copy of
the parameters per epoch.
"""

from __future__ import annotations

import numpy as np

from tinynet.layers.parameter import Parameter

__all__ = ["ParameterGuard"]


class ParameterGuard:
    """Keeps the parameters' values from the start of the latest epoch whose first loss was finite.

    In ``fit``: :meth:`begin_epoch` before an epoch's first step, :meth:`trust` once its
    first loss is finite, and on divergence :meth:`broken` / :meth:`restore`.
    """

    def __init__(self, params: list[Parameter]) -> None:
        self.params = params
        self._good = [p.data.copy() for p in params]  # the values fit started from
        self._candidate = [np.empty_like(values) for values in self._good]
        self.good_epoch = 1  # the epoch that started from the good values
        self._candidate_epoch = 1

    def begin_epoch(self, epoch: int) -> None:
        """Copy the values the epoch starts from (trusted only after :meth:`trust`)."""
        for saved, p in zip(self._candidate, self.params):
            np.copyto(saved, p.data)
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
        for p, saved in zip(self.params, self._good):
            np.copyto(p.data, saved)
        return self.good_epoch
