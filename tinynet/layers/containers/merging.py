"""Merge layers: `Add`, `Concat` and `EinsumMerge` join several arrays into one.

A *merge layer* takes a list of arrays and returns one; its backward takes
the output gradient and returns the list of input gradients. They join
branches inside `Parallel` and feed nodes with several inputs in `Graph`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinynet.engine.checks import check_int
from tinynet.engine.contraction import einsum
from tinynet.engine.types import Array, Shape
from tinynet.layers.base import Layer
from tinynet.layers.core.grad_specs import derive_grad_spec, record_index_sizes, split_pair_spec

__all__ = ["Merge", "Add", "Concat", "EinsumMerge"]


class Merge(Layer):
    """Base of layers that join several arrays: ``forward([x1, x2, ...]) -> y``
    and ``backward(g) -> [dx1, dx2, ...]``. They have no parameters.

    Shape: ``[(B, ...), (B, ...), ...] -> (B, ...)``.

    Subclasses implement ``combine(xs)``, ``split(grad_y, xs)`` and
    ``combined_shape(shapes)``; the inputs of each training forward are kept per
    call, so a merge layer may be used at several places.
    """

    # A merge layer takes a list, not one array: the signatures differ from Layer's on purpose.
    def forward(self, xs: Sequence[Array], training: bool = True) -> Array:  # type: ignore[override]
        if not isinstance(xs, (list, tuple)) or not xs:
            raise TypeError(f"{type(self).__name__} joins a non-empty list of arrays, got "
                            f"{type(xs).__name__}; use it in tn.Graph or tn.Parallel")
        xs = list(xs)
        y = self.combine(xs)
        if training:
            self.save_for_backward(xs)
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> list[Array]:  # type: ignore[override]
        (xs,) = self.saved_for_backward()
        return self.split(grad_y, xs)

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:  # type: ignore[override]
        return self.combined_shape([tuple(s) for s in input_shapes])

    def combine(self, xs: list[Array]) -> Array:
        """The joined array."""
        raise NotImplementedError

    def split(self, grad_y: Array, xs: list[Array]) -> list[Array]:
        """The gradient for each of the inputs ``xs`` that gave ``grad_y``'s output."""
        raise NotImplementedError

    def combined_shape(self, shapes: list[Shape]) -> Shape:
        """The output shape for these input shapes (``None`` for unknown sizes)."""
        raise NotImplementedError


class Add(Merge):
    """Elementwise sum of arrays of one shape.

    Shape: ``[(B, ...), (B, ...), ...] -> (B, ...)``; each ``dx_k = g``.
    """

    def combine(self, xs: list[Array]) -> Array:
        first = xs[0].shape
        if any(x.shape != first for x in xs):
            raise ValueError(f"Add needs inputs of one shape, got {[x.shape for x in xs]}")
        total = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
        for x in xs[2:]:
            total += x
        return total

    def split(self, grad_y: Array, xs: list[Array]) -> list[Array]:
        return [grad_y] * len(xs)

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

    def _axis(self, ndim: int) -> int:
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 0 < axis < ndim:
            raise ValueError(f"Concat(axis={self.axis}) does not fit {ndim}-D inputs "
                             f"(axis 0 is the batch axis)")
        return axis

    def combine(self, xs: list[Array]) -> Array:
        axis = self._axis(xs[0].ndim)
        try:
            return np.concatenate(xs, axis=axis)
        except ValueError as err:
            raise ValueError(f"Concat(axis={self.axis}) cannot join shapes "
                             f"{[x.shape for x in xs]}: {err}") from None

    def split(self, grad_y: Array, xs: list[Array]) -> list[Array]:
        axis = self._axis(grad_y.ndim)
        return np.split(grad_y, list(np.cumsum([x.shape[axis] for x in xs[:-1]])), axis=axis)

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


class EinsumMerge(Merge):
    """An einsum of two activations, e.g. attention scores ``"Bqd,Bkd->Bqk"``; no weights.

    Shape: the spec's, e.g. ``[(B, q, d), (B, k, d)] -> (B, q, k)``.

    Backward is derived from the spec as :class:`tinynet.Einsum`'s is: the gradient
    of each operand is an einsum of ``g`` and the *other* operand, with the indices
    moved. For ``"Bqd,Bkd->Bqk"``::

        y[B,q,k]  = sum_d a[B,q,d] b[B,k,d]     spec          "Bqd,Bkd->Bqk"
        da[B,q,d] = sum_k g[B,q,k] b[B,k,d]     grad_a_spec   "Bqk,Bkd->Bqd"
        db[B,k,d] = sum_q g[B,q,k] a[B,q,d]     grad_b_spec   "Bqk,Bqd->Bkd"

    Use it in a :class:`tinynet.Graph` node with two sources.
    """

    def __init__(self, spec: str) -> None:
        (self._a, self._b), self._out = split_pair_spec(spec, "EinsumMerge", "two activations")
        self.spec = f"{self._a},{self._b}->{self._out}"
        self._grad_a = derive_grad_spec(self.spec, 0)
        self._grad_b = derive_grad_spec(self.spec, 1)
        self.grad_a_spec = self._grad_a.full_spec
        self.grad_b_spec = self._grad_b.full_spec

    def combine(self, xs: list[Array]) -> Array:
        if len(xs) != 2:
            raise ValueError(f"EinsumMerge({self.spec!r}) joins exactly two arrays, got {len(xs)}")
        for name, term, x in (("first", self._a, xs[0]), ("second", self._b, xs[1])):
            if x.ndim != len(term):
                raise ValueError(f"EinsumMerge({self.spec!r}): the {name} input needs {len(term)} axes "
                                 f"({term!r}), got shape {x.shape}")
        return einsum(self.spec, xs[0], xs[1])

    def split(self, grad_y: Array, xs: list[Array]) -> list[Array]:
        a, b = xs
        return [self._grad_a(grad_y, b, a.shape), self._grad_b(grad_y, a, b.shape)]

    def combined_shape(self, shapes: list[Shape]) -> Shape:
        if len(shapes) != 2:
            raise ValueError(f"EinsumMerge({self.spec!r}) joins exactly two arrays, got {len(shapes)}")
        sizes: dict[str, int | None] = {}
        for term, shape in ((self._a, shapes[0]), (self._b, shapes[1])):
            if len(shape) != len(term):
                raise ValueError(f"EinsumMerge({self.spec!r}): input {term!r} needs {len(term)} axes, "
                                 f"got shape {shape}")
            clash = record_index_sizes(sizes, term, shape)
            if clash is not None:
                raise ValueError(f"EinsumMerge({self.spec!r}): index {clash!r} has sizes {sizes[clash]} "
                                 f"and {shape[term.index(clash)]} in shapes {shapes}")
        return tuple(sizes[c] for c in self._out)

    def get_config(self) -> dict[str, str]:
        return {"spec": self.spec}

    def extra_repr(self) -> str:
        return f"{self.spec!r}; grad_a={self._grad_a!r}, grad_b={self._grad_b!r}"

