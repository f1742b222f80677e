"""`Flatten` and `Reshape`: change the shape of each sample, not its values."""

from __future__ import annotations

import math
from typing import Any

from tinynet.engine.checks import check_int
from tinynet.engine.types import Array, Shape
from tinynet.layers.base import Layer

__all__ = ["Flatten", "Reshape"]


class Flatten(Layer):
    """Merge the axes ``start_dim`` .. ``end_dim`` into one, as PyTorch's ``nn.Flatten``.

    Shape: ``(B, C, H, W) -> (B, C H W)`` with the defaults (``start_dim=1``,
    ``end_dim=-1``: everything but the batch axis). Backward reshapes the
    gradient back: ``dx = g.reshape(x.shape)``. Both are views when ``x`` is
    contiguous.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = check_int(start_dim, "Flatten start_dim")
        self.end_dim = check_int(end_dim, "Flatten end_dim")
        if self.start_dim == 0:
            raise ValueError("Flatten start_dim must not be 0, the batch axis; use 1 (the default)")

    def _axes(self, ndim: int) -> tuple[int, int]:
        start = self.start_dim + ndim if self.start_dim < 0 else self.start_dim
        end = self.end_dim + ndim if self.end_dim < 0 else self.end_dim
        if not 0 < start <= end < ndim:
            raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) does not fit "
                             f"a {ndim}-D input (axis 0 is the batch axis)")
        return start, end

    def forward(self, x: Array, training: bool = True) -> Array:
        start, end = self._axes(x.ndim)
        if training:
            self.save_for_backward(x.shape)
        return x.reshape(*x.shape[:start], -1, *x.shape[end + 1:])

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (shape,) = self.saved_for_backward()
        return grad_y.reshape(shape)

    def output_shape(self, input_shape: Shape) -> Shape:
        start, end = self._axes(len(input_shape))
        merged = input_shape[start:end + 1]
        size = None if any(n is None for n in merged) else math.prod(n for n in merged if n is not None)
        return (*input_shape[:start], size, *input_shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Reshape(Layer):
    """Give each sample the shape ``shape`` (Keras's ``Reshape``: the batch axis stays).

    Shape: ``(B, ...) -> (B, *shape)``; one entry of ``shape`` may be ``-1``, the
    size that makes the count of values per sample match. Backward reshapes the
    gradient back to the input's shape.
    """

    def __init__(self, shape: tuple[int, ...] | list[int]) -> None:
        if not isinstance(shape, (tuple, list)) or not shape:
            raise TypeError(f"Reshape shape must be a non-empty tuple of sizes (without the batch axis), "
                            f"got {shape!r}")
        sizes = tuple(check_int(n, f"Reshape shape[{i}]", minimum=-1) for i, n in enumerate(shape))
        if 0 in sizes or sizes.count(-1) > 1:
            raise ValueError(f"Reshape shape takes positive sizes and at most one -1, got {sizes}")
        self.shape = sizes

    def _target(self, sample_shape: tuple[int, ...]) -> tuple[int, ...]:
        count = math.prod(sample_shape)
        known = math.prod(n for n in self.shape if n != -1)
        if (-1 in self.shape and count % known) or (-1 not in self.shape and count != known):
            raise ValueError(f"Reshape({self.shape}) cannot reshape samples of shape {sample_shape} "
                             f"({count} values) into {self.shape}")
        return tuple(count // known if n == -1 else n for n in self.shape)

    def forward(self, x: Array, training: bool = True) -> Array:
        target = self._target(x.shape[1:])
        if training:
            self.save_for_backward(x.shape)
        return x.reshape(x.shape[0], *target)

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (shape,) = self.saved_for_backward()
        return grad_y.reshape(shape)

    def output_shape(self, input_shape: Shape) -> Shape:
        sample = input_shape[1:]
        if any(n is None for n in sample):
            return (input_shape[0], *(None if n == -1 else n for n in self.shape))
        return (input_shape[0], *self._target(tuple(n for n in sample if n is not None)))

    def get_config(self) -> dict[str, Any]:
        return {"shape": list(self.shape)}

    def extra_repr(self) -> str:
        return f"shape={self.shape}"
