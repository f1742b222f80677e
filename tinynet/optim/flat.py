"""`FlatGroup`: parameters of one dtype whose values live in one flat buffer and whose
gradients live in another, so that an elementwise update runs once over all of them.

A step of plain SGD is ``w -= lr * g`` for every parameter: two numpy operations per
parameter, whatever its size. On a small network (the article's has four
parameters) those calls cost more than their arithmetic. With every value in one
buffer, the same rule is two operations per step, or one BLAS pass: the buffer is
the concatenation of the parameters, each a reshaped view of its slice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.types import Array
from tinynet.layers.parameter import ALIGNMENT, Parameter, aligned_empty, ready_in

__all__ = ["FlatGroup", "flat_groups"]


class FlatGroup:
    """Parameters of one dtype moved into two flat buffers: ``data`` (their values) and
    ``grad`` (their gradients), each parameter a view of one 64-byte-aligned slice.

    Moving replaces each parameter's ``data`` and gradient arrays by those views (the
    values are copied, not changed). If anything later replaces a parameter's array (a
    user assigning ``p.data = ...``, ``p.grad = ...``), :meth:`buffers` notices and
    moves the parameters again; the padding between slices stays zero.
    """

    def __init__(self, params: list[Parameter]) -> None:
        self.params = params
        self.dtype: np.dtype[Any] = params[0].dtype
        per_line = max(ALIGNMENT // self.dtype.itemsize, 1)  # elements per cache line
        self._slices: list[slice] = []
        start = 0
        for p in params:
            self._slices.append(slice(start, start + p.size))
            start += -(-p.size // per_line) * per_line  # the next slice starts on a cache line
        self.size = start
        self.data, self.grad = self._move()

    def _move(self) -> tuple[Array, Array]:
        """Copy every parameter's values and gradient into new buffers and make them views
        (new buffers: the old arrays, perhaps views of the old buffers, are read meanwhile)."""
        self.data = aligned_empty((self.size,), self.dtype)
        self.grad = aligned_empty((self.size,), self.dtype)
        self.data[...] = 0  # the padding between slices stays zero, so its update is zero
        self.grad[...] = 0
        self._views: list[tuple[Array, Array]] = []
        for p, where in zip(self.params, self._slices):
            data, grad = self.data[where].reshape(p.shape), self.grad[where].reshape(p.shape)
            p.move_to(data, grad)
            self._views.append((data, grad))
        return self.data, self.grad

    def buffers(self) -> tuple[Array, Array]:
        """``(data, grad)``, the flat values and gradients, ready for an update: every
        parameter still lives in them, and a gradient cleared by ``zero_grad`` since its
        last use reads as zeros (as ``p.grad`` would)."""
        if not ready_in(self.params, self._views):
            self._move()
            ready_in(self.params, self._views)  # true now; it writes the cleared gradients' zeros
        return self.data, self.grad


def flat_groups(params: list[Parameter]) -> list[FlatGroup] | None:
    """One :class:`FlatGroup` per dtype, in order of first appearance; ``None`` when a
    parameter is listed twice (two views cannot both be its values)."""
    if len({id(p) for p in params}) != len(params):
        return None
    by_dtype: dict[np.dtype[Any], list[Parameter]] = {}
    for p in params:
        by_dtype.setdefault(p.dtype, []).append(p)
    return [FlatGroup(group) for group in by_dtype.values()]
