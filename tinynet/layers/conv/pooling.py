"""Pooling over strided windows: ``MaxPool1D``/``2D``, ``AvgPool1D``/``2D`` (PyTorch's
``max_pool``/``avg_pool`` semantics) and ``GlobalAvgPool2D``."""

from __future__ import annotations

from math import prod

import numpy as np

from tinynet.engine.contraction import Plans
from tinynet.engine.types import Shape
from tinynet.engine.windows import ALL, add_windows, pad, windows
from tinynet.layers.base import Array, Layer
from tinynet.layers.conv.window_arguments import as_sizes, check_image_shape, checked_images, output_sizes

__all__ = ["MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool2D"]


class Pooling(Layer):
    """What the window pools share: ``kernel_size``, ``stride`` (``None``: the kernel size),
    ``padding`` (at most half the kernel, as in PyTorch), the input check and shapes.

    A subclass sets ``SPATIAL`` (1 or 2) and ``PAD_VALUE`` (what padding reads as).
    """

    SPATIAL = 0
    PAD_VALUE = 0.0

    def __init__(self, kernel_size: int | tuple[int, ...], stride: int | tuple[int, ...] | None = None,
                 padding: int | tuple[int, ...] = 0) -> None:
        name, n = type(self).__name__, self.SPATIAL
        self.kernel_size = as_sizes(kernel_size, n, f"{name} kernel_size")
        self.stride = self.kernel_size if stride is None else as_sizes(stride, n, f"{name} stride")
        self.padding = as_sizes(padding, n, f"{name} padding", minimum=0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name} padding must be at most half the kernel_size {self.kernel_size} "
                             f"(as in PyTorch), got {self.padding}")
        self.pads = tuple((p, p) for p in self.padding)
        self.ones = (1,) * n

    @property
    def input_ndim(self) -> int:
        """The rank of the input: ``(B, C, *spatial)``."""
        return self.SPATIAL + 2

    def _windows(self, x: Array) -> tuple[Array, tuple[int, ...]]:
        """The windows ``(B, C, *out, *k)`` of the padded input, and the padded shape."""
        if type(x) is not np.ndarray or x.ndim != self.SPATIAL + 2 or x.dtype.kind != "f":
            x = checked_images(x, self.SPATIAL, None, None, self._name())
        padded = pad(x, self.pads, self.PAD_VALUE)
        try:
            return windows(padded, self.kernel_size, self.stride, self.ones), padded.shape
        except ValueError:
            self.output_shape(x.shape)  # raises the layer's own message
            raise

    def _unpadded(self, grad_padded: Array) -> Array:
        inside = tuple(slice(p, size - p) for p, size in zip(self.padding, grad_padded.shape[2:]))
        return grad_padded[ALL + inside]

    def output_shape(self, input_shape: Shape) -> Shape:
        check_image_shape(input_shape, self.SPATIAL, None, self._name())
        sizes = output_sizes(input_shape[2:], self.pads, self.kernel_size, self.stride, self.ones)
        if 0 in sizes:
            raise ValueError(f"{self._name()}: the kernel {self.kernel_size} is larger than the padded "
                             f"input (input shape {tuple(input_shape)}, padding {self.padding})")
        return (*input_shape[:2], *sizes)

    def extra_repr(self) -> str:
        parts = [f"kernel_size={self.kernel_size}"]
        if self.stride != self.kernel_size:
            parts.append(f"stride={self.stride}")
        if any(self.padding):
            parts.append(f"padding={self.padding}")
        return ", ".join(parts)

    def _name(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class MaxPool(Pooling):
    """The largest value of each window. Forward runs over the kernel's taps (a few
    whole-array operations per tap, over all windows at once), keeping the running
    maximum and which tap first held it (the first one on ties, as PyTorch). Backward
    routes each gradient there: for windows that do not overlap (stride at least the
    kernel, the usual case) one masked product per tap written into the windows of the
    input's gradient; for overlapping ones one ``np.add.at`` over all windows."""

    PAD_VALUE = -np.inf

    def forward(self, x: Array, training: bool = True) -> Array:
        view, padded_shape = self._windows(x)
        taps = [view[ALL + tap] for tap in np.ndindex(*self.kernel_size)]  # each (B, C, *out)
        y = taps[0].copy()
        if not training:
            for tap in taps[1:]:
                np.maximum(y, tap, out=y)
            return y
        # where = the first tap holding the maximum; where += (index - where) * (tap > y) moves
        # it to a larger tap (uint8 arithmetic, mod 256, is exact: index - where wraps back)
        where = np.zeros(y.shape, dtype=np.intp if len(taps) > 255 else np.uint8)
        larger, step = np.empty(y.shape, dtype=bool), np.empty_like(where)
        for index, tap in enumerate(taps[1:], 1):
            np.greater(tap, y, out=larger)
            np.maximum(y, tap, out=y)
            np.subtract(where.dtype.type(index), where, out=step)
            np.multiply(step, larger, out=step)
            where += step
        self.save_for_backward(where, padded_shape)
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        where, padded_shape = self.saved_for_backward()
        if all(s >= k for s, k in zip(self.stride, self.kernel_size)):  # each input in one window
            tiled = all(s == k and n * s == size for s, k, n, size  # every input in a window
                        in zip(self.stride, self.kernel_size, where.shape[2:], padded_shape[2:]))
            grad_padded = (np.empty if tiled else np.zeros)(padded_shape, dtype=grad_y.dtype)
            view = windows(grad_padded, self.kernel_size, self.stride, self.ones, writeable=True)
            chosen = np.empty(where.shape, dtype=bool)
            for index, tap in enumerate(np.ndindex(*self.kernel_size)):
                np.equal(where, index, out=chosen)
                np.multiply(grad_y, chosen, out=view[ALL + tap])
            return self._unpadded(grad_padded)
        # flat index into the padded input of each window's maximum: where its window
        # starts, plus the offset of the tap that held the maximum
        grad_padded = np.zeros(padded_shape, dtype=grad_y.dtype)
        starts, offsets = self._flat_positions(padded_shape, where.shape)
        np.add.at(grad_padded.reshape(-1), (starts + offsets[where]).reshape(-1), grad_y.reshape(-1))
        return self._unpadded(grad_padded)

    def _flat_positions(self, padded_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[Array, Array]:
        """Each window's first position ``(B, C, *out)`` and each tap's offset from it, as flat
        indices into the padded input; made once per shape (every step has the same shapes)."""
        cached = getattr(self, "_positions", None)
        if cached is not None and cached[0] == (padded_shape, shape):
            return cached[1], cached[2]
        images = prod(padded_shape[:2])
        grid = np.ix_(np.arange(images), *(np.arange(n) * s for n, s in zip(shape[2:], self.stride)))
        starts: Array = np.ravel_multi_index(grid, (images, *padded_shape[2:])).reshape(shape)
        taps = np.indices(self.kernel_size).reshape(self.SPATIAL, -1)
        offsets: Array = np.asarray(np.ravel_multi_index(tuple(taps), padded_shape[2:]))
        self._positions = ((padded_shape, shape), starts, offsets)
        return starts, offsets


class AvgPool(Pooling):
    """The mean of each window, padding counted as zeros (PyTorch's default
    ``count_include_pad=True``): ``K`` is the number of taps of the kernel.

    Math (2-D; ``...`` stands for ``B, c``; s = stride; x padded), ``g = dL/dy``::

        y[...,h,w] = 1/K sum_{i,j} x[..., h s + i, w s + j]        FORWARD   "Bchwij->Bchw"
        dx[..., h s + i, w s + j] += g[...,h,w] / K                (col2im of the broadcast g)
    """

    FORWARD = ""

    def __init__(self, kernel_size: int | tuple[int, ...], stride: int | tuple[int, ...] | None = None,
                 padding: int | tuple[int, ...] = 0) -> None:
        super().__init__(kernel_size, stride, padding)
        self.plans = Plans()

    def forward(self, x: Array, training: bool = True) -> Array:
        view, padded_shape = self._windows(x)
        y = self.plans[self.FORWARD](view)
        y *= y.dtype.type(1 / prod(self.kernel_size))
        if training:
            self.save_for_backward(padded_shape)
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (padded_shape,) = self.saved_for_backward()
        share = grad_y * grad_y.dtype.type(1 / prod(self.kernel_size))
        spread = np.broadcast_to(share.reshape(share.shape + self.ones), share.shape + self.kernel_size)
        return self._unpadded(add_windows(spread, padded_shape, self.stride, self.ones))


class MaxPool1D(MaxPool):
    """Max pooling over ``(B, C, L)`` windows (PyTorch's ``MaxPool1d``); padding reads as -inf.

    Shape: ``(B, C, L) -> (B, C, L')``, ``L' = (L + 2 p - k) // s + 1``.

    ``y[B,c,l] = max_j x[B, c, l s + j]``; ``dx`` gets ``g[B,c,l]`` at each window's argmax.
    Args: ``kernel_size``, ``stride=None`` (the kernel size), ``padding=0`` (at most ``k // 2``).

    Examples:
        >>> tn.MaxPool1D(2)(np.ones((2, 3, 10))).shape
        (2, 3, 5)
    """

    SPATIAL = 1


class MaxPool2D(MaxPool):
    """Max pooling over ``(B, C, H, W)`` windows (PyTorch's ``MaxPool2d``); padding reads as -inf.

    Shape: ``(B, C, H, W) -> (B, C, H', W')``, per axis ``(n + 2 p - k) // s + 1``.

    ``y[B,c,h,w] = max_{i,j} x[B, c, h s + i, w s + j]``; ``dx`` gets ``g[B,c,h,w]`` at each
    window's argmax (the first on ties). Args: ``kernel_size`` (an int or a pair),
    ``stride=None`` (the kernel size), ``padding=0`` (at most half the kernel).

    Examples:
        >>> tn.MaxPool2D(2)(np.ones((4, 6, 28, 28))).shape
        (4, 6, 14, 14)
    """

    SPATIAL = 2


class AvgPool1D(AvgPool):
    """Average pooling over ``(B, C, L)`` windows (PyTorch's ``AvgPool1d``, padding counted).

    Shape: ``(B, C, L) -> (B, C, L')``, ``L' = (L + 2 p - k) // s + 1``.

    Math (``g = dL/dy``, K = k taps, x padded)::

        y[B,c,l] = 1/K sum_j x[B, c, l s + j]        FORWARD  "Bclj->Bcl"
        dx[B, c, l s + j] += g[B,c,l] / K            (col2im of the broadcast g)

    Args: ``kernel_size``, ``stride=None`` (the kernel size), ``padding=0`` (at most ``k // 2``).

    Examples:
        >>> tn.AvgPool1D(3, stride=1, padding=1)(np.ones((2, 3, 10))).shape
        (2, 3, 10)
    """

    SPATIAL = 1
    FORWARD = "Bclj->Bcl"


class AvgPool2D(AvgPool):
    """Average pooling over ``(B, C, H, W)`` windows (PyTorch's ``AvgPool2d``, padding counted).

    Shape: ``(B, C, H, W) -> (B, C, H', W')``, per axis ``(n + 2 p - k) // s + 1``.

    Math (``g = dL/dy``, K = kh kw taps, x padded)::

        y[B,c,h,w] = 1/K sum_{i,j} x[B, c, h s + i, w s + j]      FORWARD  "Bchwij->Bchw"
        dx[B, c, h s + i, w s + j] += g[B,c,h,w] / K              (col2im of the broadcast g)

    Args: ``kernel_size`` (an int or a pair), ``stride=None`` (the kernel size), ``padding=0``.

    Examples:
        >>> tn.AvgPool2D(2)(np.ones((4, 6, 28, 28))).shape
        (4, 6, 14, 14)
    """

    SPATIAL = 2
    FORWARD = "Bchwij->Bchw"


class GlobalAvgPool2D(Layer):
    """The mean of each channel over all positions (Keras's ``GlobalAveragePooling2D``,
    PyTorch's ``AdaptiveAvgPool2d(1)`` then ``Flatten``).

    Shape: ``(B, C, H, W) -> (B, C)``.

    Math (``g = dL/dy``, ``n = H W``)::

        y[B,c]      = 1/n sum_{h,w} x[B,c,h,w]      FORWARD  "Bchw->Bc"
        dx[B,c,h,w] = g[B,c] / n                    (broadcast)

    Examples:
        >>> tn.GlobalAvgPool2D()(np.ones((4, 16, 5, 5))).shape
        (4, 16)
    """

    FORWARD = "Bchw->Bc"
    input_ndim = 4

    def __init__(self) -> None:
        self.plans = Plans()

    def forward(self, x: Array, training: bool = True) -> Array:
        if type(x) is not np.ndarray or x.ndim != 4 or x.dtype.kind != "f":
            x = checked_images(x, 2, None, None, "GlobalAvgPool2D()")
        y = self.plans[self.FORWARD](x)
        y *= y.dtype.type(1 / prod(x.shape[2:]))
        if training:
            self.save_for_backward(x.shape)
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (shape,) = self.saved_for_backward()
        grad_x = np.empty(shape, dtype=grad_y.dtype)
        grad_x[...] = (grad_y * grad_y.dtype.type(1 / prod(shape[2:])))[:, :, None, None]
        return grad_x

    def output_shape(self, input_shape: Shape) -> Shape:
        check_image_shape(input_shape, 2, None, "GlobalAvgPool2D()")
        return tuple(input_shape[:2])
