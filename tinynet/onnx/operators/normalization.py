"""Converters for the normalization layers: ``BatchNorm`` (``BatchNormalization`` with the
running statistics, inference mode), ``LayerNorm`` (``LayerNormalization`` over the last
axis) and ``RMSNorm`` (its formula: ``x / sqrt(mean(x^2) + eps) * weight``)."""

from __future__ import annotations

from typing import cast

import numpy as np

from tinynet.layers.normalization.batch_norm import BatchNorm
from tinynet.layers.normalization.layer_norm import LayerNorm, RMSNorm
from tinynet.onnx.builder import OnnxGraph, Value
from tinynet.onnx.converters import register_converter

__all__: list[str] = []


@register_converter(BatchNorm)
def convert_batch_norm(layer: BatchNorm, graph: OnnxGraph, x: Value, path: str) -> str:
    """``BatchNormalization(x, weight, bias, running_mean, running_var)`` over axis 1."""
    inputs = [x.name] + [graph.constant(path, name, array) for name, array in (
        ("weight", layer.weight.data), ("bias", layer.bias.data), ("running_mean", layer.running_mean),
        ("running_var", layer.running_var))]
    return graph.node("BatchNormalization", inputs, path, epsilon=float(layer.eps))


@register_converter(LayerNorm)
def convert_layer_norm(layer: LayerNorm, graph: OnnxGraph, x: Value, path: str) -> str:
    """``LayerNormalization(x, weight, bias)`` over the last axis."""
    weight = graph.constant(path, "weight", layer.weight.data)
    bias = graph.constant(path, "bias", layer.bias.data)
    return graph.node("LayerNormalization", [x.name, weight, bias], path, axis=-1,
                      epsilon=float(cast(float, layer.eps)))


@register_converter(RMSNorm)
def convert_rms_norm(layer: RMSNorm, graph: OnnxGraph, x: Value, path: str) -> str:
    """``x * (1 / sqrt(ReduceMean(x * x) + eps)) * weight``, ``eps`` the dtype's machine
    epsilon when the layer's is ``None`` (PyTorch's default), as in tinynet."""
    eps = np.finfo(layer.weight.data.dtype).eps if layer.eps is None else layer.eps
    mean_square = graph.reduce_mean_last(graph.node("Mul", [x.name, x.name], path), path)
    shifted = graph.node("Add", [mean_square, graph.scalar(path, "eps", eps)], path)
    inverse = graph.node("Reciprocal", [graph.node("Sqrt", [shifted], path)], path)
    normalized = graph.node("Mul", [x.name, inverse], path)
    return graph.node("Mul", [normalized, graph.constant(path, "weight", layer.weight.data)], path)
