"""The arguments convolution and pooling layers share: sizes given as an int or one per
spatial axis, padding (``"same"``, ``"valid"``), the output size and the input check."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from tinynet.engine.checks import check_int
from tinynet.engine.types import Array, Shape
from tinynet.engine.windows import windows_out_size
from tinynet.layers.input_checks import numeric_array

__all__ = ["Padding", "as_sizes", "padding_pairs", "output_sizes", "expected_shape", "check_image_shape",
           "checked_images", "SPATIAL_NAMES"]

SPATIAL_NAMES = {1: ("length",), 2: ("height", "width")}
Padding = int | tuple[int, ...] | str


def as_sizes(value: Any, n: int, name: str, minimum: int = 1) -> tuple[int, ...]:
    """``value`` as ``n`` integers ``>= minimum``: an int stands for all ``n`` axes.

    ``"Conv2D stride"`` with ``(1, 2)`` gives ``(1, 2)``, with ``2`` gives ``(2, 2)``.
    """
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{name} must be an int or {n} ints (one per spatial axis), got {value!r}")
        return tuple(check_int(v, name, minimum=minimum) for v in value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer or a tuple of {n} integers, got {value!r} "
                        f"({type(value).__name__})")
    return (check_int(value, name, minimum=minimum),) * n


def padding_pairs(padding: Padding, n: int, kernel: tuple[int, ...], dilation: tuple[int, ...],
                  stride: tuple[int, ...], name: str) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` zeros per spatial axis.

    ``"valid"`` is no padding; ``"same"`` (stride 1 only, as in PyTorch) pads
    ``dilation (k - 1)`` in all, half before and the rest after, so the output
    keeps the input's size; an int or ``n`` ints pad both sides equally.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"{name} padding must be an int, {n} ints, 'same' or 'valid', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{name} padding='same' needs stride 1 (as in PyTorch), got stride {stride}; "
                             f"give the padding as numbers instead")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    return tuple((p, p) for p in as_sizes(padding, n, f"{name} padding", minimum=0))


def output_sizes(spatial: tuple[int | None, ...], pairs: tuple[tuple[int, int], ...],
                 kernel: tuple[int, ...], stride: tuple[int, ...],
                 dilation: tuple[int, ...]) -> tuple[int | None, ...]:
    """The output's spatial size per axis (``None`` stays ``None``; 0 when the kernel
    does not fit): ``(n + before + after - dilation (k - 1) - 1) // stride + 1``."""
    return tuple(None if size is None else windows_out_size(size + before + after, k, s, d)
                 for size, (before, after), k, s, d in zip(spatial, pairs, kernel, stride, dilation))


def expected_shape(n: int, channels: int | None) -> str:
    """``"(batch, 3, height, width)"``, ``"(batch, channels, length)"``."""
    return "(" + ", ".join(["batch", "channels" if channels is None else str(channels),
                            *SPATIAL_NAMES[n]]) + ")"


def check_image_shape(shape: Shape, n: int, channels: int | None, layer: str) -> None:
    """``ValueError`` naming ``layer``, the expected and the given shape unless ``shape`` is
    ``(B, C, *spatial)`` with ``n`` spatial axes (and ``channels`` channels, when given)."""
    if len(shape) == n + 2 and (channels is None or shape[1] == channels):
        return
    hint = ""
    if len(shape) == n + 2:
        hint = f"; the previous layer or the data gives {shape[1]} channel{'' if shape[1] == 1 else 's'}"
    elif len(shape) == n + 1:
        hint = "; for a single sample add the batch axis: x[None]"
        if n == 1:
            hint += "; for a single channel add the channel axis: x[:, None, :]"
    elif len(shape) == 2 and n == 2:
        hint = ("; a flat (batch, features) array must be reshaped to images first, "
                "e.g. x.reshape(-1, 1, 8, 8)")
    given = "(" + ", ".join("B" if size is None else str(size) for size in shape) + ")" \
        if any(size is None for size in shape) else str(tuple(shape))
    raise ValueError(f"{layer} expects input of shape {expected_shape(n, channels)}, got {given}{hint}")


def checked_images(x: Any, n: int, channels: int | None, dtype: np.dtype[Any] | None, layer: str) -> Array:
    """``x`` as a float array ``(B, C, *spatial)`` of ``dtype`` (its own float dtype when
    ``None``), or a ``TypeError``/``ValueError`` naming ``layer``. The slow path of a
    convolution's or pooling's input check: the layer calls it only when its fast check fails."""
    x = numeric_array(x, layer)
    check_image_shape(x.shape, n, channels, layer)
    if dtype is None:
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return x.astype(dtype, copy=False)
