"""Merge layers: `Add` and `Concat` join several arrays into one.

A *merge layer* takes a list of arrays and returns one; its backward takes
the output gradient and returns the list of input gradients. They join
branches inside `Parallel` and feed nodes with several inputs in `Graph`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinynet.engine.checks import check_int
from tinynet.engine.types import Array, Shape
from tinynet.layers.base import Layer

__all__ = ["Merge", "Add", "Concat"]


class Merge(Layer):
    """Base of layers that join several arrays: ``forward([x1, x2, ...]) -> y``
    and ``backward(g) -> [dx1, dx2, ...]``. They have no parameters.

    Shape: ``[(B, ...), (B, ...), ...] -> (B, ...)``.

    Subclasses implement ``combine(xs)``, ``split(grad_y)`` and ``combined_shape(shapes)``.
    """

    # A merge layer takes a list, not one array: the signatures differ from Layer's on purpose.
    def forward(self, xs: Sequence[Array], training: bool = True) -> Array:  # type: ignore[override]
        if not isinstance(xs, (list, tuple)) or not xs:
            raise TypeError(f"{type(self).__name__} joins a non-empty list of arrays, got "
                            f"{type(xs).__name__}; use it in tn.Graph or tn.Parallel")
        return self.combine(list(xs))

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> list[Array]:  # type: ignore[override]
        return self.split(grad_y)

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:  # type: ignore[override]
        return self.combined_shape([tuple(s) for s in input_shapes])

    def combine(self, xs: list[Array]) -> Array:
        """The joined array (keeping what ``split`` needs)."""
        raise NotImplementedError

    def split(self, grad_y: Array) -> list[Array]:
        """The gradient for each input of the last ``combine``."""
        raise NotImplementedError

    def combined_shape(self, shapes: list[Shape]) -> Shape:
        """The output shape for these input shapes (``None`` for unknown sizes)."""
        raise NotImplementedError


class Add(Merge):
    """Elementwise sum of arrays of one shape.

    Shape: ``[(B, ...), (B, ...), ...] -> (B, ...)``; each ``dx_k = g``.
    """

    _count = 0

    def combine(self, xs: list[Array]) -> Array:
        first = xs[0].shape
        if any(x.shape != first for x in xs):
            raise ValueError(f"Add needs inputs of one shape, got {[x.shape for x in xs]}")
        self._count = len(xs)
        total = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
        for x in xs[2:]:
            total += x
        return total

    def split(self, grad_y: Array) -> list[Array]:
        if not self._count:
            raise RuntimeError("Add.backward called before forward")
        return [grad_y] * self._count

    def combined_shape(self, shapes: list[Shape]) -> Shape:
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"Add needs inputs of one shape, got {shapes}")
        return shapes[0]


class Concat(Merge):
    """Concatenation along ``axis`` (default the last; never the batch axis 0).

    Shape: ``[(B, n1), (B, n2), ...] -> (B, n1 + n2 + ...)``; backward splits
    ``g`` back into pieces of the input widths.
    """

    def __init__(self, axis: int = -1) -> None:
        self.axis = check_int(axis, "Concat axis")
        if self.axis == 0:
            raise ValueError("Concat axis must not be 0, the batch axis; use -1 for features")
        self._splits: list[int] | None = None

    def _axis(self, ndim: int) -> int:
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 0 < axis < ndim:
            raise ValueError(f"Concat(axis={self.axis}) does not fit {ndim}-D inputs "
                             f"(axis 0 is the batch axis)")
        return axis

    def combine(self, xs: list[Array]) -> Array:
        axis = self._axis(xs[0].ndim)
        self._splits = list(np.cumsum([x.shape[axis] for x in xs[:-1]]))
        try:
            return np.concatenate(xs, axis=axis)
        except ValueError as err:
            raise ValueError(f"Concat(axis={self.axis}) cannot join shapes "
                             f"{[x.shape for x in xs]}: {err}") from None

    def split(self, grad_y: Array) -> list[Array]:
        if self._splits is None:
            raise RuntimeError("Concat.backward called before forward")
        return np.split(grad_y, self._splits, axis=self._axis(grad_y.ndim))

    def combined_shape(self, shapes: list[Shape]) -> Shape:
        axis = self._axis(len(shapes[0]))
        rest = [s[:axis] + s[axis + 1:] for s in shapes]
        if any(len(s) != len(shapes[0]) or r != rest[0] for s, r in zip(shapes, rest)):
            raise ValueError(f"Concat(axis={self.axis}) cannot join shapes {shapes}")
        sizes = [s[axis] for s in shapes]
        width = None if any(n is None for n in sizes) else sum(n for n in sizes if n is not None)
        return shapes[0][:axis] + (width,) + shapes[0][axis + 1:]

    def extra_repr(self) -> str:
        return "" if self.axis == -1 else f"axis={self.axis}"
