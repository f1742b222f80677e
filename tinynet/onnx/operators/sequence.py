"""Converters for the sequence layers: ``Embedding`` (``Gather``), ``PositionalEmbedding``
and ``SinusoidalPositionalEncoding`` (``Add`` of the example's positions),
``MultiHeadAttention`` (``MatMul``, ``Softmax`` and reshapes; a causal mask added as
``-inf``) and ``TransformerBlock`` (its parts, each by its own converter). The sequence
length is that of the example input; only the batch axis is dynamic."""

from __future__ import annotations

import numpy as np

from tinynet.layers.sequence.attention import MultiHeadAttention
from tinynet.layers.sequence.embedding import Embedding
from tinynet.layers.sequence.positional import PositionalEmbedding, SinusoidalPositionalEncoding
from tinynet.layers.sequence.transformer import TransformerBlock
from tinynet.onnx.builder import OnnxGraph, Value, child_path
from tinynet.onnx.converters import register_converter

__all__: list[str] = []


@register_converter(Embedding)
def convert_embedding(layer: Embedding, graph: OnnxGraph, x: Value, path: str) -> str:
    """``Gather(W, ids, axis=0)``: the row of each id (the graph's input is int64 ids)."""
    return graph.node("Gather", [graph.constant(path, "weight", layer.weight.data), x.name], path,
                      axis=0)


@register_converter(PositionalEmbedding)
def convert_positional_embedding(layer: PositionalEmbedding, graph: OnnxGraph, x: Value, path: str) -> str:
    """``x + W[:T]``."""
    rows = layer.weight.data[:x.example.shape[1]]
    return graph.node("Add", [x.name, graph.constant(path, "weight", rows)], path)


@register_converter(SinusoidalPositionalEncoding)
def convert_sinusoidal(layer: SinusoidalPositionalEncoding, graph: OnnxGraph, x: Value, path: str) -> str:
    """``x + P[:T]``, the fixed table."""
    table = layer.table(x.example.shape[1])
    return graph.node("Add", [x.name, graph.constant(path, "table", table)], path)


@register_converter(MultiHeadAttention)
def convert_attention(layer: MultiHeadAttention, graph: OnnxGraph, x: Value | list[Value], path: str) -> str:
    """Q, K, V projected (``MatMul`` + ``Add``) and split into heads (``Reshape`` ``(B, T, h, d)``,
    ``Transpose``); ``Softmax(Q K^T / sqrt(d) + mask)``; the heads' mix ``MatMul`` with V
    merged back to ``(B, T, E)``; then ``out_proj`` by the ``Dense`` converter."""
    values = x if isinstance(x, list) else [x]
    if len(values) > 2:
        raise graph.unsupported(layer, path, "a key_padding_mask input is not exported; export the model "
                                "without it (pad with keys that the data never attends to)")
    query, context = values[0], values[-1]
    e, heads, size = layer.embed_dim, layer.num_heads, layer.head_dim
    w = layer.in_proj_weight.data
    b = None if layer.in_proj_bias is None else layer.in_proj_bias.data
    split = graph.int64s(path, "heads_shape", [0, 0, heads, size])

    def heads_of(source: Value, block: int, name: str, perm: list[int]) -> str:
        """Block ``block`` (0 Q, 1 K, 2 V) of the projection of ``source``, as heads in ``perm`` order."""
        rows = slice(block * e, (block + 1) * e)
        y = graph.node("MatMul", [source.name, graph.constant(path, f"{name}_weight_t", w[rows].T)],
                       path)
        if b is not None:
            y = graph.node("Add", [y, graph.constant(path, f"{name}_bias", b[rows])], path)
        return graph.node("Transpose", [graph.node("Reshape", [y, split], path)], path, perm=perm)

    q = heads_of(query, 0, "q", [0, 2, 1, 3])                   # (B, h, Tq, d)
    k = heads_of(context, 1, "k", [0, 2, 3, 1])                 # (B, h, d, Tk)
    v = heads_of(context, 2, "v", [0, 2, 1, 3])                 # (B, h, Tk, d)
    scores = graph.node("MatMul", [q, k], path)                 # (B, h, Tq, Tk)
    scores = graph.node("Mul", [scores, graph.scalar(path, "scale", 1 / np.sqrt(size))], path)
    if layer.causal:
        steps_q, steps_k = query.example.shape[1], context.example.shape[1]
        mask = np.where(np.triu(np.ones((steps_q, steps_k), bool), 1), -np.inf, 0.0)
        scores = graph.node("Add", [scores, graph.constant(path, "causal_mask", mask)], path)
    p = graph.node("Softmax", [scores], path, axis=-1)
    mixed = graph.node("Transpose", [graph.node("MatMul", [p, v], path)], path, perm=[0, 2, 1, 3])
    merged = graph.node("Reshape", [mixed, graph.int64s(path, "merged_shape", [0, 0, e])], path)
    example = layer.out_proj.forward(np.zeros((*query.example.shape[:2], e), layer.out_proj.weight.dtype),
                                     training=False)
    return graph.convert(layer.out_proj, Value(merged, example), child_path(path, "out_proj")).name


@register_converter(TransformerBlock)
def convert_transformer_block(layer: TransformerBlock, graph: OnnxGraph, x: Value, path: str) -> str:
    """The block's parts in its order (pre-norm or post-norm), the residual sums as ``Add``."""

    def part(name: str, value: Value) -> Value:
        return graph.convert(getattr(layer, name), value, child_path(path, name))

    def add(a: Value, b: Value) -> Value:
        return Value(graph.node("Add", [a.name, b.name], path), a.example + b.example)

    def feed_forward(value: Value) -> Value:
        for name in ("linear1", "activation", "dropout", "linear2", "dropout2"):
            value = part(name, value)
        return value

    if layer.norm_first:
        x = add(x, part("dropout1", part("self_attn", part("norm1", x))))
        return add(x, feed_forward(part("norm2", x))).name
    x = part("norm1", add(x, part("dropout1", part("self_attn", x))))
    return part("norm2", add(x, feed_forward(x))).name
