"""The ONNX graph under construction: nodes, weights (initializers), inputs and outputs,
and the walk that turns each layer into nodes through its registered converter.

Every tensor of the graph is a :class:`Value`: its name, and the array it holds when the
model runs on the example input (tinynet's own inference forward, layer by layer), so a
converter knows the ranks and the sizes it needs (a ``Reshape``'s target, a ``Flatten``'s
axes, the positions a sequence has). The batch axis is never read from an example: it
stays dynamic in the exported graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinynet.engine.types import Array
from tinynet.onnx.converters import exportable_layers, find_converter

__all__ = ["Value", "OnnxGraph", "child_path"]


@dataclass(frozen=True)
class Value:
    """A tensor of the graph: its ``name`` and ``example``, an array of its shape and dtype on
    the example input (a layer's output is tinynet's forward of the layer on the example)."""

    name: str
    example: Array


def child_path(path: str, child: str) -> str:
    """``"block"`` under ``"0"`` is ``"0.block"``; under the model itself (``""``) ``"block"``."""
    return f"{path}.{child}" if path else child


class OnnxGraph:
    """Collects the nodes and initializers of one ONNX graph for ``opset`` in ``dtype``.

    Converters call :meth:`node` to add an operator, :meth:`constant` and
    :meth:`int64s` for weights and shapes, and :meth:`convert` for the layers inside a
    container. Floating weights are stored in ``dtype``, the exported model's dtype.
    """

    def __init__(self, opset: int, dtype: np.dtype[Any]) -> None:
        from onnx import helper, numpy_helper  # the optional extra: imported when a graph is built

        self.helper, self.numpy_helper = helper, numpy_helper
        self.opset = opset
        self.dtype = np.dtype(dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self._used: set[str] = set()

    def fresh(self, name: str) -> str:
        """``name``, or ``name_1``, ``name_2``, ... if it is taken: every tensor name is unique."""
        candidate, count = name, 0
        while candidate in self._used:
            count += 1
            candidate = f"{name}_{count}"
        self._used.add(candidate)
        return candidate

    def node(self, op: str, inputs: list[str], path: str, **attributes: Any) -> str:
        """Add one ``op`` node with one output; returns the output's name (``"<path>/<op>"``)."""
        name = self.fresh(f"{path or 'model'}/{op}")
        self.nodes.append(self.helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def multi_node(self, op: str, inputs: list[str], path: str, outputs: int, **attributes: Any) -> list[str]:
        """Add one ``op`` node with ``outputs`` outputs; returns their names."""
        name = self.fresh(f"{path or 'model'}/{op}")
        names = [self.fresh(f"{name}:{k}") for k in range(outputs)]
        self.nodes.append(self.helper.make_node(op, inputs, names, name=name, **attributes))
        return names

    def constant(self, path: str, name: str, array: Any) -> str:
        """An initializer ``"<path>.<name>"`` (``"0.weight"``, a state dict's name) holding
        ``array``: floats in the graph's dtype, integers as int64."""
        array = np.asarray(array)
        array = array.astype(self.dtype if array.dtype.kind == "f" else np.int64)
        unique = self.fresh(child_path(path, name))
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), unique))
        return unique

    def int64s(self, path: str, name: str, values: Any) -> str:
        """A 1-D int64 initializer (a shape, axes)."""
        return self.constant(path, name, np.asarray(values, dtype=np.int64).reshape(-1))

    def scalar(self, path: str, name: str, value: float) -> str:
        """A 0-D initializer in the graph's dtype."""
        return self.constant(path, name, np.asarray(value, dtype=self.dtype))

    def reduce_mean_last(self, x: str, path: str) -> str:
        """``ReduceMean`` over the last axis, kept (its axes an attribute before opset 18, an input since)."""
        if self.opset >= 18:
            return self.node("ReduceMean", [x, self.int64s(path, "axes", [-1])], path, keepdims=1)
        return self.node("ReduceMean", [x], path, axes=[-1], keepdims=1)

    def tensor_type(self, array: Array) -> int:
        """The ONNX element type of a graph input or output like ``array``: the graph's float
        dtype for floats, int64 for integers (token ids)."""
        dtype = self.dtype if array.dtype.kind == "f" else np.dtype(np.int64)
        return int(self.helper.np_dtype_to_tensor_dtype(dtype))

    def add_input(self, name: str, example: Array) -> Value:
        """A graph input like ``example`` with a dynamic batch axis (``"batch"``)."""
        shape = ["batch", *example.shape[1:]]
        self.inputs.append(self.helper.make_tensor_value_info(name, self.tensor_type(example), shape))
        self._used.add(name)
        return Value(name, example)

    def add_output(self, name: str, value: Value) -> None:
        """Expose ``value`` as the graph output ``name`` (an ``Identity`` node renames it)."""
        self._used.add(name)
        self.nodes.append(self.helper.make_node("Identity", [value.name], [name], name=f"{name}/Identity"))
        shape = ["batch", *value.example.shape[1:]]
        self.outputs.append(self.helper.make_tensor_value_info(name, self.tensor_type(value.example), shape))

    def convert(self, layer: Any, x: Value | list[Value], path: str) -> Any:
        """Add the nodes of ``layer`` (at ``path`` in the model) applied to ``x``; returns
        its output :class:`Value` (a tuple of them for a layer with several outputs)."""
        converter = find_converter(layer)
        if converter is None:
            where = f"layer {path!r}" if path else "the model"
            raise TypeError(f"cannot export {where} ({type(layer).__name__}) to ONNX: no converter is "
                            f"registered for {type(layer).__name__}. Layers that can be exported: "
                            f"{', '.join(exportable_layers())}; add one for your layer with "
                            f"@tinynet.onnx.register_converter({type(layer).__name__})")
        names = converter(layer, self, x, path)
        example = layer.forward([v.example for v in x] if isinstance(x, list) else x.example, training=False)
        if isinstance(names, (tuple, list)):
            return tuple(Value(name, array) for name, array in zip(names, example))
        return Value(names, example)

    def unsupported(self, layer: Any, path: str, why: str) -> ValueError:
        """The error for a layer whose converter cannot export this configuration of it."""
        where = f"layer {path!r}" if path else "the model"
        return ValueError(f"cannot export {where} ({type(layer).__name__}) to ONNX: {why}")

    def model(self, producer_version: str, doc: str) -> Any:
        """The ``ModelProto``, for ``opset`` with the oldest IR version that supports it
        (so older runtimes load it)."""
        helper = self.helper
        graph = helper.make_graph(self.nodes, "tinynet", self.inputs, self.outputs, self.initializers)
        opset = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(graph, opset_imports=opset, producer_name="tinynet",
                                  producer_version=producer_version, doc_string=doc)
        model.ir_version = helper.find_min_ir_version_for(opset)
        return model
