"""Converters for convolution and pooling: ``Conv1D``/``Conv2D`` (``Conv``), ``MaxPool1D``/``2D``
(``MaxPool``: padding never wins a maximum, as tinynet's ``-inf`` padding), ``AvgPool1D``/``2D``
(``AveragePool`` with ``count_include_pad=1``: padding counts as zeros, tinynet's and
PyTorch's default) and ``GlobalAvgPool2D`` (``GlobalAveragePool`` then ``Flatten``)."""

from __future__ import annotations

from tinynet.layers.conv.convolution import Conv1D, Conv2D, Convolution
from tinynet.layers.conv.pooling import (
    AvgPool,
    AvgPool1D,
    AvgPool2D,
    GlobalAvgPool2D,
    MaxPool,
    MaxPool1D,
    MaxPool2D,
)
from tinynet.onnx.builder import OnnxGraph, Value
from tinynet.onnx.converters import register_converter

__all__: list[str] = []


def _pads(pairs: tuple[tuple[int, int], ...]) -> list[int]:
    """tinynet's ``(before, after)`` per axis as ONNX's ``[befores..., afters...]``."""
    return [before for before, _ in pairs] + [after for _, after in pairs]


@register_converter(Conv1D)
@register_converter(Conv2D)
def convert_convolution(layer: Convolution, graph: OnnxGraph, x: Value, path: str) -> str:
    """``Conv(x, W, b)`` with the layer's kernel, strides, dilations and (possibly uneven) pads."""
    inputs = [x.name, graph.constant(path, "weight", layer.weight.data)]
    if layer.bias is not None:
        inputs.append(graph.constant(path, "bias", layer.bias.data))
    return graph.node("Conv", inputs, path, kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                      dilations=list(layer.dilation), pads=_pads(layer.pads))


@register_converter(MaxPool1D)
@register_converter(MaxPool2D)
def convert_max_pool(layer: MaxPool, graph: OnnxGraph, x: Value, path: str) -> str:
    """``MaxPool`` with the layer's kernel, strides and pads."""
    return graph.node("MaxPool", [x.name], path, kernel_shape=list(layer.kernel_size),
                      strides=list(layer.stride), pads=_pads(layer.pads))


@register_converter(AvgPool1D)
@register_converter(AvgPool2D)
def convert_avg_pool(layer: AvgPool, graph: OnnxGraph, x: Value, path: str) -> str:
    """``AveragePool`` counting the padding (``count_include_pad=1``)."""
    return graph.node("AveragePool", [x.name], path, kernel_shape=list(layer.kernel_size),
                      strides=list(layer.stride), pads=_pads(layer.pads), count_include_pad=1)


@register_converter(GlobalAvgPool2D)
def convert_global_avg_pool(layer: GlobalAvgPool2D, graph: OnnxGraph, x: Value, path: str) -> str:
    """``GlobalAveragePool`` gives ``(B, C, 1, 1)``; ``Flatten`` makes it ``(B, C)``."""
    return graph.node("Flatten", [graph.node("GlobalAveragePool", [x.name], path)], path, axis=1)
