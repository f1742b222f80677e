"""Converters for the containers and merge layers: ``Sequential``, ``Residual`` (``Add``),
``Parallel`` (``Concat`` or ``Sum``), ``Graph`` (several inputs and outputs), ``Add``
(``Sum``), ``Concat`` and ``EinsumMerge`` (ONNX ``Einsum``). A container converts each
layer inside it at its place in the model (``"1.block.0"``)."""

from __future__ import annotations

from tinynet.layers.containers.branches import Parallel, Residual
from tinynet.layers.containers.graph import Graph
from tinynet.layers.containers.merging import Add, Concat, EinsumMerge, Merge
from tinynet.layers.containers.sequential import Sequential
from tinynet.onnx.builder import OnnxGraph, Value, child_path
from tinynet.onnx.converters import register_converter
from tinynet.onnx.operators.core import onnx_equation

__all__: list[str] = []


@register_converter(Sequential)
def convert_sequential(layer: Sequential, graph: OnnxGraph, x: Value, path: str) -> str:
    """Each layer on the output of the one before."""
    for index, child in enumerate(layer.layers):
        x = graph.convert(child, x, child_path(path, str(index)))
    return x.name


@register_converter(Residual)
def convert_residual(layer: Residual, graph: OnnxGraph, x: Value, path: str) -> str:
    """``Add(x, block(x))``."""
    y = graph.convert(layer.block, x, child_path(path, "block"))
    return graph.node("Add", [x.name, y.name], path)


@register_converter(Parallel)
def convert_parallel(layer: Parallel, graph: OnnxGraph, x: Value, path: str) -> str:
    """Every branch on ``x``, joined by ``Concat`` (last axis) or ``Sum``."""
    names = [graph.convert(branch, x, child_path(path, str(index))).name
             for index, branch in enumerate(layer.branches)]
    if layer.join == "concat":
        return graph.node("Concat", names, path, axis=-1)
    return graph.node("Sum", names, path)


@register_converter(Graph)
def convert_graph(layer: Graph, graph: OnnxGraph, x: Value | list[Value], path: str) -> str | tuple[str, ...]:
    """Each node, once its sources are known, on them (a merge layer on the list); the
    outputs are the ``output`` nodes' values."""
    names = [layer.inputs] if isinstance(layer.inputs, str) else list(layer.inputs)
    values: dict[str, Value] = dict(zip(names, x if isinstance(x, list) else [x]))
    pending = dict(layer.nodes)
    while pending:
        for name, (child, sources) in list(pending.items()):
            if all(source in values for source in sources):
                args = [values[source] for source in sources]
                values[name] = graph.convert(child, args if isinstance(child, Merge) else args[0],
                                             child_path(path, name))
                del pending[name]
    if isinstance(layer.output, str):
        return values[layer.output].name
    return tuple(values[name].name for name in layer.output)


@register_converter(Add)
def convert_add(layer: Add, graph: OnnxGraph, xs: list[Value], path: str) -> str:
    """``Sum`` of the inputs (one shape)."""
    return graph.node("Sum", [x.name for x in xs], path)


@register_converter(Concat)
def convert_concat(layer: Concat, graph: OnnxGraph, xs: list[Value], path: str) -> str:
    """``Concat`` along the layer's axis."""
    return graph.node("Concat", [x.name for x in xs], path, axis=layer.axis)


@register_converter(EinsumMerge)
def convert_einsum_merge(layer: EinsumMerge, graph: OnnxGraph, xs: list[Value], path: str) -> str:
    """ONNX ``Einsum`` of the two inputs with the layer's spec (letters renamed for ONNX)."""
    return graph.node("Einsum", [x.name for x in xs], path, equation=onnx_equation(layer.spec))
