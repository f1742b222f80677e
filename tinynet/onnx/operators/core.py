"""Converters for the core layers: ``Dense`` (``Gemm``, or ``MatMul`` + ``Add`` on N-D
input), ``Einsum`` (ONNX ``Einsum``), the activations, ``Dropout`` (the identity at
inference) and ``Flatten``/``Reshape``."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.layers.core.activations import GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from tinynet.layers.core.dense import Dense
from tinynet.layers.core.dropout import Dropout
from tinynet.layers.core.einsum import Einsum
from tinynet.layers.core.reshaping import Flatten, Reshape
from tinynet.onnx.builder import OnnxGraph, Value
from tinynet.onnx.converters import register_converter

__all__ = ["onnx_equation"]

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def onnx_equation(spec: str) -> str:
    """A tinynet einsum spec written for ONNX's ``Einsum``, whose equations take lower-case
    letters only: each letter is renamed, in order of first use, to ``a``, ``b``, ...;
    ``...``, ``,`` and ``->`` stay. ``"Bi,oi->Bo"`` becomes ``"ab,cb->ac"``."""
    renamed: dict[str, str] = {}
    out = []
    for char in spec.replace(" ", ""):
        if not char.isalpha():
            out.append(char)
            continue
        if char not in renamed:
            if len(renamed) == len(LETTERS):
                raise ValueError(f"the einsum spec {spec!r} has more than 26 indices; ONNX's Einsum "
                                 f"takes the 26 lower-case letters")
            renamed[char] = LETTERS[len(renamed)]
        out.append(renamed[char])
    return "".join(out)


@register_converter(Dense)
def convert_dense(layer: Dense, graph: OnnxGraph, x: Value, path: str) -> str:
    """``(B, in)``: ``Gemm(x, W, b, transB=1)``; ``(B, ..., in)``: ``MatMul(x, W^T)`` + ``b``."""
    weight = layer.weight.data
    if x.example.ndim == 2:
        inputs = [x.name, graph.constant(path, "weight", weight)]
        if layer.bias is not None:
            inputs.append(graph.constant(path, "bias", layer.bias.data))
        return graph.node("Gemm", inputs, path, transB=1)
    y = graph.node("MatMul", [x.name, graph.constant(path, "weight_t", weight.T)],
                   path)
    if layer.bias is None:
        return y
    return graph.node("Add", [y, graph.constant(path, "bias", layer.bias.data)], path)


@register_converter(Einsum)
def convert_einsum(layer: Einsum, graph: OnnxGraph, x: Value, path: str) -> str:
    """``Einsum(x, W)`` with the layer's spec (letters renamed for ONNX), then ``+ b``."""
    weight = graph.constant(path, "weight", layer.weight.data)
    y = graph.node("Einsum", [x.name, weight], path, equation=onnx_equation(layer.spec))
    if layer.bias is None:
        return y
    return graph.node("Add", [y, graph.constant(path, "bias", layer.bias.data)], path)


ELEMENTWISE: dict[type, str] = {ReLU: "Relu", Sigmoid: "Sigmoid", Tanh: "Tanh", Identity: "Identity",
                                Dropout: "Identity"}


def convert_elementwise(layer: Any, graph: OnnxGraph, x: Value, path: str) -> str:
    """One ONNX operator of the same name: ``Relu``, ``Sigmoid``, ``Tanh``, ``Identity``
    (``Dropout`` at inference)."""
    return graph.node(ELEMENTWISE[next(c for c in type(layer).__mro__ if c in ELEMENTWISE)], [x.name], path)


for _layer_class in ELEMENTWISE:
    register_converter(_layer_class)(convert_elementwise)


@register_converter(LeakyReLU)
def convert_leaky_relu(layer: LeakyReLU, graph: OnnxGraph, x: Value, path: str) -> str:
    """``LeakyRelu(alpha)``: ``x`` for ``x >= 0``, else ``alpha x`` (tinynet's ``max(x, alpha x)``,
    or ``min`` for ``alpha > 1``, is the same function)."""
    return graph.node("LeakyRelu", [x.name], path, alpha=float(layer.alpha))


@register_converter(Softmax)
def convert_softmax(layer: Softmax, graph: OnnxGraph, x: Value, path: str) -> str:
    """``Softmax`` over the last axis."""
    return graph.node("Softmax", [x.name], path, axis=-1)


@register_converter(GELU)
def convert_gelu(layer: GELU, graph: OnnxGraph, x: Value, path: str) -> str:
    """ONNX's ``Gelu`` from opset 20; before it, the formula: ``x (1 + erf(x / sqrt 2)) / 2``,
    or with ``approximate="tanh"`` ``x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2``."""
    if graph.opset >= 20:
        return graph.node("Gelu", [x.name], path, approximate=layer.approximate)
    if layer.approximate == "tanh":
        cube = graph.node("Mul", [x.name, graph.node("Mul", [x.name, x.name], path)], path)
        inner = graph.node("Add", [x.name, graph.node("Mul", [cube, graph.scalar(path, "c", 0.044715)],
                                                      path)], path)
        scaled = graph.node("Mul", [inner, graph.scalar(path, "k", np.sqrt(2 / np.pi))], path)
        curve = graph.node("Tanh", [scaled], path)
    else:
        scaled = graph.node("Mul", [x.name, graph.scalar(path, "k", 1 / np.sqrt(2))], path)
        curve = graph.node("Erf", [scaled], path)
    one_plus = graph.node("Add", [curve, graph.scalar(path, "one", 1.0)], path)
    half_x = graph.node("Mul", [x.name, graph.scalar(path, "half", 0.5)], path)
    return graph.node("Mul", [half_x, one_plus], path)


@register_converter(Flatten)
@register_converter(Reshape)
def convert_reshape(layer: Flatten | Reshape, graph: OnnxGraph, x: Value, path: str) -> str:
    """``Flatten(axis=1)`` for the default ``Flatten``; else ``Reshape`` to the output's
    sizes with ``0`` (copy) for the batch axis, so the batch stays dynamic."""
    if isinstance(layer, Flatten) and layer.start_dim in (1, 1 - x.example.ndim) \
            and layer.end_dim in (-1, x.example.ndim - 1):
        return graph.node("Flatten", [x.name], path, axis=1)
    sizes = layer.forward(x.example, training=False).shape[1:]
    return graph.node("Reshape", [x.name, graph.int64s(path, "shape", [0, *sizes])], path)
