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
from math import prod
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinynet.engine.types import Array

__all__ = ["windows", "pad", "add_windows", "add_wide_windows", "windows_out_size", "ALL"]

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



def add_wide_windows(cols: Array, shape: tuple[int, ...], dilation: tuple[int, ...]) -> Array:
    """:func:`add_windows` for stride 1 from *wide* windows: every spatial axis but the
    first spans the input's full size, and the entries past the last window there are zero.

    Shape: ``(B, C, h, *spatial[1:], *kernel) -> shape = (B, C, *spatial)``, e.g. for a
    2-D kernel ``cols[b, c, p, q, i, j]`` with ``q`` over the whole width ``W`` and zero
    for ``q > W - dilation (kw - 1) - 1``. Then each window row continues into the next
    one in memory, so each kernel offset is one add over ``h W`` contiguous values per
    image and channel (plain :func:`add_windows` adds rows of only the output's width,
    which numpy runs several times slower), shifted by the offset's flat position; the
    zero entries land past a row's end, where they change nothing.
    """
    n = (cols.ndim - 2) // 2
    lead, kernel, spatial = cols.shape[:2], cols.shape[2 + n:], shape[2:]
    if cols.shape[3:2 + n] != spatial[1:]:
        raise ValueError(f"add_wide_windows: windows {cols.shape} do not span the input's "
                         f"trailing spatial sizes {spatial[1:]}")
    size, run = prod(spatial), prod(cols.shape[2:2 + n])
    steps = [prod(spatial[axis + 1:]) for axis in range(n)]  # flat step of each spatial axis
    result = np.zeros((*lead, size), dtype=cols.dtype)
    for offset in product(*(range(k) for k in kernel)):
        start = sum(i * d * step for i, d, step in zip(offset, dilation, steps))
        length = min(run, size - start)  # what lies past the end is a last row's zeros
        result[:, :, start:start + length] += cols[ALL + offset].reshape(*lead, run)[:, :, :length]
    return result.reshape(shape)
