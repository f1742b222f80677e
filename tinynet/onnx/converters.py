"""Which function turns a layer into ONNX nodes: converters registered by layer class.

A converter is ``convert(layer, graph, x, path) -> output name(s)``: it adds to
``graph`` (a :class:`tinynet.onnx.builder.OnnxGraph`) the nodes that compute the
layer's inference forward from the value ``x`` (a :class:`~tinynet.onnx.builder.Value`,
or a list of them for a merge layer) and returns the name of the output (or a tuple of
names for a layer with several outputs). ``path`` is the layer's dotted place in the
model (``"0"``, ``"block.1"``), used to name its nodes and weights. A user's layer
gets one with :func:`register_converter`; the lookup follows the class's MRO, so a
subclass of a built-in layer is exported as its parent unless it registers its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Converter", "register_converter", "find_converter", "exportable_layers"]

Converter = Callable[[Any, Any, Any, str], Any]
ConverterT = TypeVar("ConverterT", bound=Converter)

CONVERTERS: dict[type, Converter] = {}


def register_converter(layer_class: type) -> Callable[[ConverterT], ConverterT]:
    """Decorator: use the decorated function to export layers of ``layer_class`` (and its
    subclasses without a converter of their own)::

        @tinynet.onnx.register_converter(Scale)
        def convert_scale(layer, graph, x, path):
            factor = graph.constant(f"{path}.factor", np.asarray(layer.factor))
            return graph.node("Mul", [x.name, factor], path)
    """
    if not isinstance(layer_class, type):
        raise TypeError(f"register_converter takes a layer class, got {layer_class!r}")

    def register(function: ConverterT) -> ConverterT:
        if not callable(function):
            raise TypeError(f"register_converter({layer_class.__name__}) decorates a function "
                            f"convert(layer, graph, x, path), got {function!r}")
        CONVERTERS[layer_class] = function
        return function

    return register


def find_converter(layer: Any) -> Converter | None:
    """The converter for ``layer``'s class or its nearest registered base class."""
    for cls in type(layer).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    return None


def exportable_layers() -> list[str]:
    """The names of the layer classes that have a converter, sorted."""
    return sorted({cls.__name__ for cls in CONVERTERS})
