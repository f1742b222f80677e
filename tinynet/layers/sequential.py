"""`Sequential`: a chain of layers that is itself a layer."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any, overload

from tinynet.layers.base import Array, Layer, LayerLike, check_unique_layers, output_shape_of

__all__ = ["Sequential", "check_layer", "accepts_need_input_grad"]


def check_layer(layer: Any, where: str) -> None:
    """Raise ``TypeError`` unless ``layer`` keeps the Layer protocol."""
    if isinstance(layer, type):
        raise TypeError(f"{where}: got the class {layer.__name__}, not an instance; "
                        f"write {layer.__name__}(...)")
    if not isinstance(layer, LayerLike):
        raise TypeError(f"{where} must be a layer (with forward, backward and parameters), "
                        f"got {type(layer).__name__}: {layer!r}")


def accepts_need_input_grad(layer: LayerLike) -> bool:
    """Whether ``layer.backward`` takes the ``need_input_grad`` keyword."""
    try:
        return "need_input_grad" in inspect.signature(layer.backward).parameters
    except (TypeError, ValueError):
        return False


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
        check_unique_layers(self)
        self._check_chain()
        self._first_skips = bool(self.layers) and accepts_need_input_grad(self.layers[0])

    def forward(self, x: Array, training: bool = True) -> Array:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

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
        if need_input_grad or not self._first_skips:
            return self.layers[0].backward(grad)
        return self.layers[0].backward(grad, need_input_grad=False)  # type: ignore[call-arg]

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
        self.layers.append(layer)
        try:
            check_unique_layers(self)
            self._check_chain()
        except ValueError:
            self.layers.pop()  # leave the model as it was
            raise
        self._first_skips = accepts_need_input_grad(self.layers[0])
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
        """Feed the first known feature count through the layers: sizes must chain."""
        shape: tuple[int | None, ...] | None = None
        for index, layer in enumerate(self.layers):
            if shape is None:
                n_in = getattr(layer, "in_features", None)
                if not isinstance(n_in, int):
                    continue
                shape = (None, n_in)
            try:
                shape = output_shape_of(layer, shape)
            except ValueError as err:
                raise ValueError(f"Sequential layer {index} does not fit the layer before it: "
                                 f"{err}") from None

