"""The optimizer base: the parameter list, per-parameter state, ``zero_grad``, and the
checks every optimizer shares (``params``, ``lr``, ``fused``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet.engine.blas import TunedAxpy, unavailable_reason
from tinynet.engine.checks import check_number
from tinynet.layers.parameter import Parameter

__all__ = ["Optimizer"]


class Optimizer:
    """Base class: holds the parameter list, per-parameter state and the ``fused`` choice.

    Args:
        params: the parameters to update, e.g. ``model.parameters()``; each a
            :class:`tinynet.Parameter` whose ``data`` is updated in place from its ``grad``.
        lr: learning rate, ``> 0``.
        fused: which update runs. ``None`` (default): the one-pass BLAS update through
            numpy's own OpenBLAS when it is usable for every parameter's dtype, else
            numpy's. ``False``: numpy's update, the readable reference (the functional
            ``sgd_step`` / ``adam_step``). ``True``: the BLAS update, or a
            ``RuntimeError`` that says why it is unavailable. Both give the same
            numbers up to rounding; ``optimizer.fused`` is the update that runs.

    State is keyed by the parameter's position in ``params`` (never by a name like
    ``"W"``), has the parameter's dtype, and lives in ``self.state``.
    """

    def __init__(self, params: Iterable[Parameter], lr: float, fused: bool | None = None) -> None:
        name = type(self).__name__
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{name}: params is empty; pass model.parameters()")
        for index, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{name}: params[{index}] must be a "
                                f"tinynet.Parameter, got {type(p).__name__}")
        self.lr = check_number(lr, "lr", low=0, low_open=True)
        self.fused = self._resolve_fused(fused)
        self.state: list[dict[str, NDArray[Any]]] = [{} for _ in self.params]
        self.steps = 0

    def _resolve_fused(self, fused: Any) -> bool:
        """``fused`` as the update that will run: True for BLAS, False for numpy."""
        name = type(self).__name__
        if fused is not None and not isinstance(fused, (bool, np.bool_)):
            raise TypeError(f"{name}: fused must be True, False or None, got {fused!r} "
                            f"({type(fused).__name__})")
        if fused is not None and not fused:
            return False
        for index, p in enumerate(self.params):
            reason = unavailable_reason(p.data.dtype)
            if reason is not None:
                if fused:
                    raise RuntimeError(
                        f"{name}: fused=True needs numpy's OpenBLAS for params[{index}] "
                        f"({p.data.dtype}), which is unavailable: {reason}. Pass fused=None "
                        "(BLAS when usable) or fused=False (numpy's update)")
                return False
        return True

    def _tuned_updates(self) -> list[TunedAxpy]:
        """One :class:`tinynet.engine.blas.TunedAxpy` per parameter for one kind of in-place
        update (``w -= lr * g``, a moment's ``m += c * g``); empty unless ``fused``."""
        return [TunedAxpy() for _ in self.params] if self.fused else []

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``."""
        raise NotImplementedError

    def flat_buffers(self) -> list[NDArray[Any]] | None:
        """The flat arrays that hold every parameter's values when this optimizer keeps
        them in such buffers (a fused ``SGD``: ``tinynet.optim.flat``), else ``None``."""
        groups = getattr(self, "_flat", None)
        return [group.buffers()[0] for group in groups] if groups else None

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (``backward`` adds into it)."""
        for p in self.params:
            p.zero_grad()

    def extra_repr(self) -> str:
        """The hyper-parameters after ``lr`` in the repr, e.g. ``", momentum=0.9"``."""
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}{self.extra_repr()}, fused={self.fused})"
