"""`Sequential`: a chain of layers that is itself a layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, overload

from tinynet.engine.types import Array
from tinynet.layers.base import Layer, LayerLike, check_layer, output_shape_of
from tinynet.layers.core.reshaping import Flatten, Reshape
from tinynet.layers.saved_values import marks_pass

__all__ = ["Sequential"]


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse.

    Shape: ``(B, in) -> (B, out)`` of the first and last layer.

    Supports ``len``, iteration, indexing (a slice gives a Sequential) and
    nesting. Consecutive layers whose feature sizes are known (``Dense``) are
    checked to chain at construction.
    """

    def __init__(self, *layers: LayerLike) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for index, layer in enumerate(layers):
            check_layer(layer, f"Sequential layer {index}")
        self.layers: list[LayerLike] = list(layers)
        self._check_chain()

    @marks_pass
    def forward(self, x: Array, training: bool = True) -> Array:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    @marks_pass
    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        grad = grad_y
        for index in range(len(self.layers) - 1, 0, -1):
            grad_x = self.layers[index].backward(grad)
            if grad_x is None:
                raise RuntimeError(f"Sequential layer {index} ({type(self.layers[index]).__name__}) "
                                   f"returned no input gradient from backward")
            grad = grad_x
        if not self.layers:
            return grad
        return self.layers[0].backward(grad, need_input_grad)

    @property
    def integer_input(self) -> bool:  # type: ignore[override]
        """Whether the first layer takes integer inputs (token ids) as they are."""
        return bool(self.layers) and bool(getattr(self.layers[0], "integer_input", False))

    def named_children(self) -> list[tuple[str, LayerLike]]:
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        for layer in self.layers:
            input_shape = output_shape_of(layer, input_shape)
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {"layers": list(self.layers)}

    def append(self, layer: LayerLike) -> Sequential:
        """Add a layer at the end (checked like the constructor's); returns self."""
        check_layer(layer, f"Sequential layer {len(self.layers)}")
        inside = layer.named_layers() if isinstance(layer, Layer) else [("", layer)]
        if any(sub is self for _, sub in inside):
            raise ValueError("Sequential.append: a Sequential cannot contain itself (its forward "
                             "would never end); append a new container")
        self.layers.append(layer)
        try:
            self._check_chain()
        except ValueError:
            self.layers.pop()  # leave the model as it was
            raise
        return self

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[LayerLike]:
        return iter(self.layers)

    @overload
    def __getitem__(self, index: int) -> LayerLike: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> LayerLike | Sequential:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def _check_chain(self) -> None:
        """Feed the first known input size through the layers: sizes must chain.

        The check starts at a layer that names its input: ``in_features`` (guessed
        ``(batch, in_features)``: the leading axes are not known before data arrives)
        or ``in_channels`` with ``input_ndim`` (``(batch, C, None...)`` for a convolution,
        its spatial sizes unknown). It stops at a layer that moves values between axes
        (Flatten, Reshape), at a layer that cannot tell its output for the guessed shape,
        and where a size it would check is unknown (``None``), and starts again at the
        next layer that names its input.
        """
        shape: tuple[int | None, ...] | None = None
        for index, layer in enumerate(self.layers):
            n_in = getattr(layer, "in_features", None)
            if shape is None:
                shape = _named_input(layer)
                if shape is None:
                    continue
            if isinstance(layer, (Flatten, Reshape)):
                shape = None
                continue
            try:
                shape = output_shape_of(layer, shape)
            except ValueError as err:
                # A size the check does not know (a convolution's spatial sizes), or a layer that
                # does not name its features and expects another rank than the guess (an Einsum
                # over (B, T, in)), says nothing about the chain: start again from this layer.
                other_rank = getattr(layer, "input_ndim", None) != len(shape)
                if _refused_an_unknown_size(layer, shape) or (not isinstance(n_in, int) and other_rank):
                    start = _named_input(layer)
                    shape = None if start is None else output_shape_of(layer, start)
                    continue
                raise ValueError(f"Sequential layer {index} does not fit the layer before it: "
                                 f"{err}") from None


def _named_input(layer: LayerLike) -> tuple[int | None, ...] | None:
    """The input shape a layer names: ``(None, in_features)``, ``(None, in_channels, None...)``
    for a layer with ``in_channels`` and ``input_ndim``, or ``None``."""
    n_in = getattr(layer, "in_features", None)
    if isinstance(n_in, int):
        return (None, n_in)
    channels, ndim = getattr(layer, "in_channels", None), getattr(layer, "input_ndim", None)
    if isinstance(channels, int) and isinstance(ndim, int):
        return (None, channels) + (None,) * (ndim - 2)
    return None


def _refused_an_unknown_size(layer: LayerLike, shape: tuple[int | None, ...]) -> bool:
    """Whether ``layer`` refused ``shape`` only for a size the check does not know: it takes
    the shape once each unknown size (``None``) is the ``in_features`` it names (a Dense on
    the last axis of a convolution's ``(batch, C, None)`` output)."""
    n_in = getattr(layer, "in_features", None)
    if not isinstance(n_in, int) or all(size is not None for size in shape[1:]):
        return False
    try:
        output_shape_of(layer, (shape[0], *(n_in if size is None else size for size in shape[1:])))
    except ValueError:
        return False
    return True
