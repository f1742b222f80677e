"""`Parameter`: a trainable array and the gradient that backward adds into it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet.engine.contraction import Plans, einsum
from tinynet.engine.sizes import check_size

__all__ = ["Parameter", "aligned_empty", "ready_in", "zero_grads"]


ALIGNMENT = 64  # bytes: a cache line


def aligned_empty(shape: tuple[int, ...], dtype: np.dtype[Any]) -> NDArray[Any]:
    """An uninitialised C-ordered array whose data starts on a 64-byte boundary.

    Shape: ``shape``. malloc only promises 16 bytes; BLAS reads and writes
    cache-line-aligned weights faster, and parameters live long enough for that to pay.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buffer = np.empty(nbytes + ALIGNMENT, dtype=np.uint8)
    start = -buffer.ctypes.data % ALIGNMENT
    return buffer[start:start + nbytes].view(dtype).reshape(shape)


class Parameter:
    """A trainable array with its gradient.

    ``data`` is updated in place by optimizers. ``grad`` has the shape and dtype
    of ``data`` and **accumulates** (PyTorch's semantics): every backward of a layer
    that uses the parameter adds its share, so a parameter used at two places
    gets the sum of both gradients. ``zero_grad()`` (the optimizer's, the
    model's, or ``fit`` before each step) clears it.

    Clearing costs nothing: ``zero_grad`` only marks the gradient as zero, and the
    first :meth:`accumulate` after it *writes* the gradient into ``grad`` (no
    addition, no allocation); only later uses add. Reading ``grad`` while it is
    marked zero fills it with zeros first.
    """

    __slots__ = ("data", "_grad", "_grad_is_zero", "name", "_plans")

    def __init__(self, data: NDArray[Any], name: str = "") -> None:
        array = np.asarray(data)
        if array.dtype.kind != "f":
            raise TypeError(f"Parameter {name!r}: data must be a float array, got dtype {array.dtype}")
        for what in ("data", "grad"):  # (inside tinynet.load, both count against the file's budget)
            check_size(array.shape, array.dtype, f"Parameter {name!r} {what}")
        self.data: NDArray[Any] = aligned_empty(array.shape, array.dtype)  # an owned copy
        self.data[...] = array
        self._grad: NDArray[Any] = aligned_empty(array.shape, array.dtype)
        self._grad[...] = 0
        self._grad_is_zero = True
        self.name = name
        self._plans = Plans()  # each spec's planned contraction: a step skips einsum's cache lookup

    @property
    def grad(self) -> NDArray[Any]:
        """dL/d(data), summed over every use since the last ``zero_grad``."""
        if self._grad_is_zero:
            self._grad[...] = 0
            self._grad_is_zero = False
        return self._grad

    @grad.setter
    def grad(self, value: NDArray[Any]) -> None:
        self._grad = value
        self._grad_is_zero = False

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def size(self) -> int:
        return int(self.data.size)

    def move_to(self, data: NDArray[Any], grad: NDArray[Any]) -> None:
        """Keep the values in ``data`` and the gradient in ``grad`` from now on (arrays of
        this parameter's shape and dtype, e.g. views of an optimizer's flat buffers): the
        current ones are copied in."""
        data[...] = self.data
        grad[...] = self._grad
        self.data, self._grad = data, grad

    def zero_grad(self) -> None:
        """Clear the gradient: the next :meth:`accumulate` overwrites instead of adding."""
        self._grad_is_zero = True

    def accumulate(self, spec: str, a: NDArray[Any], b: NDArray[Any] | None = None,
                   *more: NDArray[Any]) -> None:
        """Add ``einsum(spec, a, b, ...)`` (shaped like ``data``) into ``grad``.

        Every layer's backward adds its parameter gradients through this one
        method. The first use after ``zero_grad`` writes straight into ``grad``.
        """
        if more:  # three operands or more: no plan bound here
            self.add_grad(einsum(spec, a, b, *more))  # type: ignore[arg-type]
            return
        if self._grad_is_zero:
            self._plans[spec](a, b, self._grad)
            self._grad_is_zero = False
        else:
            self._grad += self._plans[spec](a, b)

    def add_grad(self, value: NDArray[Any]) -> None:
        """Add an already computed gradient ``value`` (shaped like ``data``) into ``grad``."""
        if self._grad_is_zero:
            np.copyto(self._grad, value)
            self._grad_is_zero = False
        else:
            self._grad += value

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.dtype})"


def zero_grads(params: list[Parameter]) -> None:
    """``p.zero_grad()`` for every parameter of ``params``, in one call (``fit`` does it
    before every step)."""
    for p in params:
        p._grad_is_zero = True


def ready_in(params: list[Parameter], views: list[tuple[NDArray[Any], NDArray[Any]]]) -> bool:
    """Whether each parameter's values and gradient are still the ``(data, grad)`` arrays
    given to its :meth:`Parameter.move_to`; if so, a gradient cleared since its last use is
    written as zeros, so that an update reading the arrays directly sees what ``grad`` gives."""
    for p, (data, grad) in zip(params, views):
        if p.data is not data or p._grad is not grad:
            return False
        if p._grad_is_zero:
            grad[...] = 0
    return True
