"""Sliding windows of an image as a zero-copy strided view, and the adjoint that adds
windows back (col2im): the two tools of convolution and pooling.

For an input ``(B, C, *spatial)`` (``spatial`` = ``L``, or ``H, W``) and a kernel of
size ``k`` per spatial axis, :func:`windows` is the ``as_strided`` view
``(B, C, *out, *k)`` with::

    view[b, c, p..., i...] = x[b, c, p * stride + i * dilation ...]
    out = (n - dilation (k - 1) - 1) // stride + 1        per spatial axis

No value is copied: the view's strides step ``stride`` positions along an output
axis and ``dilation`` positions along a kernel axis. Padding is one copy,
:func:`pad`. :func:`add_windows` is the transpose of :func:`windows` (every
window's values added back where they came from): a loop over the ``k``
kernel offsets (``kh kw`` strided adds for a 2-D kernel), never over positions.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinynet.engine.types import Array

__all__ = ["windows", "pad", "add_windows", "windows_out_size", "ALL"]

ALL: tuple[Any, ...] = (Ellipsis,)
"""Index the leading axes whole: ``x[ALL + spatial]`` indexes the trailing spatial axes."""


def windows_out_size(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> int:
    """How many windows of ``kernel`` taps ``dilation`` apart fit in ``size`` positions
    stepping by ``stride``: ``(size - dilation (kernel - 1) - 1) // stride + 1``, or 0."""
    span = dilation * (kernel - 1) + 1
    return 0 if size < span else (size - span) // stride + 1


def windows(x: Array, kernel: tuple[int, ...], stride: tuple[int, ...],
            dilation: tuple[int, ...], writeable: bool = False) -> Array:
    """The zero-copy view of ``x``'s sliding windows.

    Shape: ``(B, C, *spatial) -> (B, C, *out, *kernel)``, one spatial axis per entry of
    ``kernel`` (the trailing axes of ``x``). ``stride`` and ``dilation`` have one
    entry per spatial axis. Raises ``ValueError`` when a window does not fit.
    The view is read-only unless ``writeable`` (for :func:`add_windows`' callers
    who know their windows do not overlap).
    """
    n = len(kernel)
    spatial = x.shape[x.ndim - n:]
    out = tuple(windows_out_size(size, k, s, d)
                for size, k, s, d in zip(spatial, kernel, stride, dilation))
    if 0 in out:
        spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ValueError(f"windows: a kernel spanning {spans} does not fit in the input's "
                         f"spatial size {spatial} (input shape {x.shape})")
    steps = x.strides[x.ndim - n:]
    return as_strided(x, shape=(*x.shape[:x.ndim - n], *out, *kernel),
                      strides=(*x.strides[:x.ndim - n],
                               *(st * s for st, s in zip(steps, stride)),
                               *(st * d for st, d in zip(steps, dilation))),
                      writeable=writeable)


def pad(x: Array, padding: tuple[tuple[int, int], ...], value: float = 0.0) -> Array:
    """``x`` with ``padding[d] = (before, after)`` entries of ``value`` around each of
    its trailing spatial axes (one copy); ``x`` itself when there is nothing to pad.

    Shape: ``(B, C, *spatial) -> (B, C, *(spatial + before + after))``.
    """
    if not any(before or after for before, after in padding):
        return x
    lead = ((0, 0),) * (x.ndim - len(padding))
    return np.pad(x, lead + tuple(padding), constant_values=value)


def add_windows(cols: Array, shape: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...]) -> Array:
    """The transpose of :func:`windows` (col2im): a new array of ``shape`` in which each
    entry is the sum of every window value :func:`windows` read from there.

    Shape: ``(B, C, *out, *kernel) -> shape = (B, C, *spatial)``. One strided add per
    kernel offset (``prod(kernel)`` adds), each over all windows at once. ``cols`` may
    be any view with these axes (e.g. a transposed matmul result).
    """
    n = (cols.ndim - 2) // 2
    out, kernel = cols.shape[2:2 + n], cols.shape[2 + n:]
    result = np.zeros(shape, dtype=cols.dtype)
    for offset in product(*(range(k) for k in kernel)):
        where = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                      for i, d, s, o in zip(offset, dilation, stride, out))
        result[ALL + where] += cols[ALL + offset]
    return result

