"""Converters for the recurrent layers: ``LSTM`` and ``GRU`` as ONNX's ``LSTM`` and ``GRU``
operators (one direction, zero initial state).

The gate blocks are reordered: tinynet (as PyTorch) stacks ``i, f, g, o`` (LSTM) and
``r, z, n`` (GRU), ONNX ``i, o, f, c`` and ``z, r, h``. ONNX's GRU with
``linear_before_reset=1`` is PyTorch's (the reset gate multiplies ``W_hn h + b_hn``).
ONNX's sequences are time-major, so the input and output are transposed.
"""

from __future__ import annotations

import numpy as np

from tinynet.engine.types import Array
from tinynet.layers.recurrent.base import RecurrentLayer
from tinynet.layers.recurrent.gru import GRU
from tinynet.layers.recurrent.lstm import LSTM
from tinynet.onnx.builder import OnnxGraph, Value
from tinynet.onnx.converters import register_converter

__all__: list[str] = []

ONNX_GATE_ORDER = {LSTM: [0, 3, 1, 2], GRU: [1, 0, 2]}  # tinynet's blocks in ONNX's order


@register_converter(LSTM)
@register_converter(GRU)
def convert_recurrent(layer: RecurrentLayer, graph: OnnxGraph, x: Value, path: str) -> str:
    """``LSTM``/``GRU`` over ``Transpose(x)`` ``(T, B, I)``; ``Y`` back to ``(B, T, H)``, or the
    last state ``Y_h`` as ``(B, H)`` with ``return_sequences=False``."""
    op = "LSTM" if isinstance(layer, LSTM) else "GRU"
    order = ONNX_GATE_ORDER[LSTM if isinstance(layer, LSTM) else GRU]
    size = layer.hidden_size

    def reordered(array: Array) -> Array:
        return np.concatenate([array[k * size:(k + 1) * size] for k in order])[None]

    inputs = [graph.node("Transpose", [x.name], path, perm=[1, 0, 2]),
              graph.constant(path, "weight_ih_l0", reordered(layer.weight_ih_l0.data)),
              graph.constant(path, "weight_hh_l0", reordered(layer.weight_hh_l0.data))]
    if layer.bias_ih_l0 is not None and layer.bias_hh_l0 is not None:
        biases = np.concatenate([reordered(layer.bias_ih_l0.data), reordered(layer.bias_hh_l0.data)], axis=1)
        inputs.append(graph.constant(path, "bias", biases))
    extra = {"linear_before_reset": 1} if op == "GRU" else {}
    sequence, last = graph.multi_node(op, inputs, path, 2, hidden_size=size, **extra)
    if not layer.return_sequences:
        return graph.node("Squeeze", [last, graph.int64s(path, "axis0", [0])], path)
    steps = graph.node("Squeeze", [sequence, graph.int64s(path, "axis1", [1])], path)
    return graph.node("Transpose", [steps], path, perm=[1, 0, 2])
