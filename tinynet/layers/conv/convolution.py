"""Convolutions as one einsum over strided windows: ``Conv1D`` on ``(B, C, L)`` and
``Conv2D`` on ``(B, C, H, W)``, PyTorch's layout and names (``weight (out, in, k...)``,
``bias (out,)``)."""

from __future__ import annotations

from math import prod
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int
from tinynet.engine.contraction import Plans
from tinynet.engine.scratch import ScratchPool
from tinynet.engine.types import Shape
from tinynet.engine.windows import ALL, add_wide_windows, add_windows, pad, windows
from tinynet.layers.base import Array, Layer
from tinynet.layers.conv.window_arguments import (
    Padding,
    as_sizes,
    check_image_shape,
    checked_images,
    output_sizes,
    padding_pairs,
)
from tinynet.layers.initializers import Initializer, RngLike, as_generator, init_config, init_weight_and_bias
from tinynet.layers.parameter import Parameter

__all__ = ["Conv1D", "Conv2D"]


class Convolution(Layer):
    """What ``Conv1D`` and ``Conv2D`` share: arguments, the im2col, forward and backward.

    A subclass sets ``SPATIAL`` (1 or 2) and its four einsum specs. Forward makes the
    columns once, ``cols = windows(pad(x))`` brought into ``(C, *k, B, *out)`` order
    (the one copy, im2col; in this order numpy copies long runs along the last output
    axis), and runs ``FORWARD`` on them; backward reuses the same columns for
    ``GRAD_WEIGHT``, and the input gradient is ``GRAD_COLUMNS`` followed by
    :func:`~tinynet.engine.windows.add_windows` (col2im: one strided add per kernel tap),
    which measured faster than an einsum over the gradient's transposed windows
    (docs/einsum.md). The columns' gradient has the columns' shape and is written into
    their array, which then goes back to ``self.scratch`` for the next forward. A 2-D
    convolution at stride 1 computes it instead over whole rows (``g`` widened with zeros,
    two more arrays from ``self.scratch``), so that col2im is one contiguous add per tap
    (:func:`~tinynet.engine.windows.add_wide_windows`; rows as narrow as the output
    make numpy's adds several times slower).
    """

    SPATIAL = 0
    FORWARD = GRAD_WEIGHT = GRAD_BIAS = GRAD_COLUMNS = ""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: Padding = 0,
        dilation: int | tuple[int, ...] = 1,
        bias: bool = True,
        init: str | Initializer = "he_normal",
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        name, n = type(self).__name__, self.SPATIAL
        self.in_channels = check_int(in_channels, f"{name} in_channels", minimum=1)
        self.out_channels = check_int(out_channels, f"{name} out_channels", minimum=1)
        self.kernel_size = as_sizes(kernel_size, n, f"{name} kernel_size")
        self.stride = as_sizes(stride, n, f"{name} stride")
        self.dilation = as_sizes(dilation, n, f"{name} dilation")
        self.pads = padding_pairs(padding, n, self.kernel_size, self.dilation, self.stride, name)
        self.padding: str | tuple[int, ...] = padding if isinstance(padding, str) else \
            tuple(before for before, _ in self.pads)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"{name} bias must be True or False, got {bias!r}")
        self.init = init
        taps = prod(self.kernel_size)
        weight, bias_data = init_weight_and_bias(
            init, as_generator(rng, f"{name} rng"), (self.out_channels, self.in_channels, *self.kernel_size),
            (self.out_channels,) if bias else None, self.in_channels * taps, self.out_channels * taps,
            check_float_dtype(dtype, f"{name} dtype"), name)
        self.weight = Parameter(weight, "weight")
        self.bias = None if bias_data is None else Parameter(bias_data, "bias")
        self.plans = Plans()
        self.scratch = ScratchPool()  # the columns' arrays, reused from step to step
        # (B, C, *out, *k) windows <-> (C, *k, B, *out) columns
        self._to_columns = (1, *range(2 + n, 2 + 2 * n), 0, *range(2, 2 + n))
        self._from_columns = (1 + n, 0, *range(2 + n, 2 + 2 * n), *range(1, 1 + n))
        self._per_channel = (self.out_channels,) + (1,) * n

    @property
    def input_ndim(self) -> int:
        """The rank of the input: ``(B, C, *spatial)``."""
        return self.SPATIAL + 2

    def forward(self, x: Array, training: bool = True) -> Array:
        w = self.weight.data
        if type(x) is not np.ndarray or x.ndim != self.SPATIAL + 2 or x.shape[1] != self.in_channels \
                or x.dtype != w.dtype:
            x = checked_images(x, self.SPATIAL, self.in_channels, w.dtype, self._name())
        padded = pad(x, self.pads)
        cols = self._columns(padded)
        # y is a contiguous (B, o, *out), so the layers after it and the gradients coming back
        # share one layout (mixed ones are slow); the engine writes it there directly.
        y = np.empty((cols.shape[1 + self.SPATIAL], self.out_channels, *cols.shape[2 + self.SPATIAL:]),
                     dtype=w.dtype)
        self.plans[self.FORWARD](cols, w, out=y)
        if self.bias is not None:
            y += self.bias.data.reshape(self._per_channel)
        if training:
            self.save_for_backward(cols, padded.shape)
        else:
            self.scratch.give(cols)
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        cols, padded_shape = self.saved_for_backward()
        self.weight.accumulate(self.GRAD_WEIGHT, grad_y, cols)
        if self.bias is not None:
            self.bias.accumulate(self.GRAD_BIAS, grad_y)
        if not need_input_grad:
            self.scratch.give(cols)
            return None
        if self.SPATIAL > 1 and self.stride == (1,) * self.SPATIAL:
            self.scratch.give(cols)
            grad_padded = self._wide_input_grad(grad_y, padded_shape)
        else:
            grad_cols = self.plans[self.GRAD_COLUMNS](grad_y, self.weight.data, out=cols)  # cols are used up
            grad_padded = add_windows(grad_cols.transpose(self._from_columns), padded_shape,
                                      self.stride, self.dilation)
            self.scratch.give(cols)
        inside = tuple(slice(before, size - after)
                       for (before, after), size in zip(self.pads, padded_shape[2:]))
        return grad_padded[ALL + inside]

    def _wide_input_grad(self, grad_y: Array, padded_shape: tuple[int, ...]) -> Array:
        """The padded input's gradient at stride 1: ``GRAD_COLUMNS`` on ``g`` widened with zeros
        to the padded input's size on every spatial axis but the first, then
        :func:`~tinynet.engine.windows.add_wide_windows` (one contiguous add per kernel tap,
        where rows as narrow as the output make numpy several times slower)."""
        batch, _, rows, *across = grad_y.shape
        wide = self.scratch.take((*grad_y.shape[:3], *padded_shape[3:]), grad_y.dtype)
        wide.fill(0)
        wide[(slice(None),) * 3 + tuple(slice(0, size) for size in across)] = grad_y
        grad_cols = self.scratch.take((self.in_channels, *self.kernel_size, batch, rows, *padded_shape[3:]),
                                      grad_y.dtype)
        self.plans[self.GRAD_COLUMNS](wide, self.weight.data, out=grad_cols)
        grad_padded = add_wide_windows(grad_cols.transpose(self._from_columns), padded_shape, self.dilation)
        self.scratch.give(grad_cols)
        self.scratch.give(wide)
        return grad_padded

    def _columns(self, padded: Array) -> Array:
        """im2col: the windows of the padded input copied into one contiguous ``(C, *k, B, *out)``
        array (taken from ``self.scratch``)."""
        try:
            view = windows(padded, self.kernel_size, self.stride, self.dilation)
        except ValueError:
            self.output_shape(padded.shape[:2] + tuple(  # raises the layer's own message
                size - before - after for size, (before, after) in zip(padded.shape[2:], self.pads)))
            raise
        view = view.transpose(self._to_columns)
        cols = self.scratch.take(view.shape, view.dtype)
        np.copyto(cols, view)
        return cols

    def output_shape(self, input_shape: Shape) -> Shape:
        check_image_shape(input_shape, self.SPATIAL, self.in_channels, self._name())
        sizes = output_sizes(input_shape[2:], self.pads, self.kernel_size, self.stride, self.dilation)
        if 0 in sizes:
            spans = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))
            padded = tuple(None if n is None else n + a + b for n, (a, b) in zip(input_shape[2:], self.pads))
            raise ValueError(f"{self._name()}: the kernel spans {spans}, larger than the padded input "
                             f"{padded} (input shape {tuple(input_shape)}, padding {self.padding!r}); "
                             f"use a smaller kernel_size or dilation, or more padding")
        return (input_shape[0], self.out_channels, *sizes)

    def get_config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                "dilation": self.dilation, "bias": self.bias is not None,
                "dtype": self.weight.dtype.name, **init_config(self.init)}

    def extra_repr(self) -> str:
        parts = [f"in_channels={self.in_channels}", f"out_channels={self.out_channels}",
                 f"kernel_size={self.kernel_size}"]
        one, zero = (1,) * self.SPATIAL, (0,) * self.SPATIAL
        for name, value, default in (("stride", self.stride, one), ("padding", self.padding, zero),
                                     ("dilation", self.dilation, one)):
            if value != default:
                parts.append(f"{name}={value!r}")
        if self.bias is None:
            parts.append("bias=False")
        if self.weight.dtype != np.float64:
            parts.append(f"dtype={self.weight.dtype}")
        return ", ".join(parts)

    def _name(self) -> str:
        return (f"{type(self).__name__}(in_channels={self.in_channels}, out_channels={self.out_channels}, "
                f"kernel_size={self.kernel_size})")


class Conv1D(Convolution):
    """1-D convolution (cross-correlation, as PyTorch's ``Conv1d``) over ``(B, C, L)``.

    Shape: ``(B, in, L) -> (B, out, L')``, ``L' = (L + 2 p - d (k - 1) - 1) // s + 1``.

    Math (c = in channel, o = out channel, l = output position, j = kernel tap; s =
    stride, d = dilation, x padded), with ``cols[c,j,B,l] = x[B,c,l s + j d]`` (the
    windows, made once in forward) and ``g = dL/dy``::

        y[B,o,l]       = sum_{c,j} cols[c,j,B,l] W[o,c,j] + b[o]    FORWARD       "cjBl,ocj->Bol"
        dW[o,c,j]     += sum_{B,l} g[B,o,l] cols[c,j,B,l]           GRAD_WEIGHT   "Bol,cjBl->ocj"
        db[o]         += sum_{B,l} g[B,o,l]                         GRAD_BIAS     "Bol->o"
        dcols[c,j,B,l] = sum_o g[B,o,l] W[o,c,j]                    GRAD_COLUMNS  "Bol,ocj->cjBl"
        dx[B,c,l s + j d] += dcols[c,j,B,l]                         (col2im: k strided adds)

    Args: ``in_channels``, ``out_channels``, ``kernel_size``; ``stride=1``, ``padding=0``
    (an int, ``"same"`` (stride 1) or ``"valid"``), ``dilation=1``, ``bias=True``,
    ``init="he_normal"`` (fan-in ``in k``; bias zeros), ``rng``, ``dtype=float64``.

    Examples:
        >>> tn.Conv1D(3, 8, kernel_size=5, padding="same")(np.ones((2, 3, 20))).shape
        (2, 8, 20)
    """

    SPATIAL = 1
    FORWARD = "cjBl,ocj->Bol"
    GRAD_WEIGHT = "Bol,cjBl->ocj"
    GRAD_BIAS = "Bol->o"
    GRAD_COLUMNS = "Bol,ocj->cjBl"


class Conv2D(Convolution):
    """2-D convolution (cross-correlation, as PyTorch's ``Conv2d``) over ``(B, C, H, W)``.

    Shape: ``(B, in, H, W) -> (B, out, H', W')``, per axis ``(n + 2 p - d (k - 1) - 1) // s + 1``.

    Math (c = in channel, o = out channel, h w = output position, i j = kernel tap;
    s = stride, d = dilation, x padded), with the windows ``cols[c,i,j,B,h,w] =
    x[B, c, h s + i d, w s + j d]`` made once in forward and ``g = dL/dy``::

        y[B,o,h,w]    = sum_{c,i,j} cols[c,i,j,B,h,w] W[o,c,i,j] + b[o]   FORWARD      "cijBhw,ocij->Bohw"
        dW[o,c,i,j]  += sum_{B,h,w} g[B,o,h,w] cols[c,i,j,B,h,w]          GRAD_WEIGHT  "Bohw,cijBhw->ocij"
        db[o]        += sum_{B,h,w} g[B,o,h,w]                            GRAD_BIAS    "Bohw->o"
        dcols[c,i,j,B,h,w] = sum_o g[B,o,h,w] W[o,c,i,j]             GRAD_COLUMNS "Bohw,ocij->cijBhw"
        dx[B,c,h s + i d, w s + j d] += dcols[c,i,j,B,h,w]          (col2im: kh kw strided adds)

    The engine runs each spec as BLAS: ``(o, c i j) @ (B, c i j, h w)`` forward (a matmul
    broadcast over ``B``, written straight into ``y``'s order), ``(o, B h w) @ (B h w, c i j)``
    for the weight (in float32 ``(c i j, B h w) @ (B h w, o)``, transposed), ``(c i j, o) @
    (o, B h w)`` for the columns.

    Args: ``in_channels``, ``out_channels``, ``kernel_size`` (an int or a pair);
    ``stride=1``, ``padding=0`` (an int, a pair, ``"same"`` (stride 1) or ``"valid"``),
    ``dilation=1``, ``bias=True``, ``init="he_normal"`` (fan-in ``in kh kw``; bias zeros),
    ``rng``, ``dtype=float64``.

    Examples:
        >>> tn.Conv2D(1, 6, kernel_size=5, padding=2)(np.ones((4, 1, 28, 28))).shape
        (4, 6, 28, 28)
    """

    SPATIAL = 2
    FORWARD = "cijBhw,ocij->Bohw"
    GRAD_WEIGHT = "Bohw,cijBhw->ocij"
    GRAD_BIAS = "Bohw->o"
    GRAD_COLUMNS = "Bohw,ocij->cijBhw"
