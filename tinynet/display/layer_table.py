"""`summary(model, input_features)`: layers, output shapes and parameter counts.

In a terminal or notebook it prints a rich table; elsewhere (pipes, files, CI
logs) the same content as plain text. ``model.summary(n)`` calls this module
lazily, so layers never depend on display code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from tinynet.display.console import get_console
from tinynet.engine.checks import check_int
from tinynet.layers.base import SUMMARY_PRINTER, named_buffers_of, output_shape_of

__all__ = ["summary", "summary_rows", "summary_text", "summary_table", "SummaryRow"]


@dataclass
class SummaryRow:
    """One line of the summary: dotted name, layer repr, output shape, counts."""

    name: str
    layer: str
    output_shape: str
    params: int
    buffers: int
    depth: int
    layer_id: int = 0


def summary(model: Any, input_features: Any = None, *, console: Console | None = None) -> None:
    """Print the summary of ``model`` for inputs of ``input_features`` features.

    Shape: ``input_features`` is the per-sample shape: an int ``in`` for ``(B, in)``,
    a tuple ``(T, in)`` for ``(B, T, in)``; for a model with several inputs, a list
    of such shapes (in the order of the graph's inputs) or a dict by input name.
    ``None`` lists the layers and their parameters with the output shapes as ``-``.
    """
    rows = summary_rows(model, input_features)
    if console is None:
        console = get_console()
    if console.is_terminal or console.is_jupyter:
        console.print(summary_table(model, rows))
    else:
        console.print(_plain_text(model, rows), markup=False, highlight=False, soft_wrap=True)


def summary_rows(model: Any, input_features: Any = None) -> list[SummaryRow]:
    """The rows of the summary; the shapes are propagated with each layer's ``output_shape``."""
    rows: list[SummaryRow] = []
    children = _children(model)
    shape: Any = _input_shape(input_features)
    if _is_chain(model):
        for name, child in children:
            shape = _walk(child, name, shape, 0, rows)
    else:
        _walk(model, "", shape, 0, rows)
    return rows


def summary_text(model: Any, input_features: Any = None) -> str:
    """The summary as plain text (what ``summary`` prints outside a terminal)."""
    return _plain_text(model, summary_rows(model, input_features))


def summary_table(model: Any, rows: list[SummaryRow]) -> Table:
    """The summary as a rich ``Table`` (rows from :func:`summary_rows`)."""
    trainable, buffers, size = _totals(model)
    table = Table(title=f"{type(model).__name__} summary", header_style="bold",
                  caption=f"Total params: {trainable + buffers:,} ({_kib(size)})  "
                          f"trainable: {trainable:,}  non-trainable: {buffers:,}")
    table.add_column("Layer")
    table.add_column("Output shape")
    table.add_column("Params", justify="right")
    for row in rows:
        table.add_row(_label(row), row.output_shape,
                      f"{row.params + row.buffers:,}")
    return table


def _plain_text(model: Any, rows: list[SummaryRow]) -> str:
    trainable, buffers, size = _totals(model)
    labels = [_label(r) for r in rows]
    w_layer = max([len("Layer"), *map(len, labels)])
    w_shape = max([len("Output shape"), *(len(r.output_shape) for r in rows)])
    counts = [f"{r.params + r.buffers:,}" for r in rows]
    w_count = max([len("Params"), *map(len, counts)])
    rule = "-" * (w_layer + w_shape + w_count + 4)
    lines = [f"{type(model).__name__} summary", rule,
             f"{'Layer':<{w_layer}}  {'Output shape':<{w_shape}}  {'Params':>{w_count}}", rule]
    lines += [f"{label:<{w_layer}}  {r.output_shape:<{w_shape}}  {count:>{w_count}}"
              for label, r, count in zip(labels, rows, counts)]
    lines += [rule, f"Total params: {trainable + buffers:,} ({_kib(size)})",
              f"Trainable params: {trainable:,}", f"Non-trainable params: {buffers:,}"]
    return "\n".join(lines)


def _label(row: SummaryRow) -> str:
    return "  " * row.depth + (f"{row.name}: {row.layer}" if row.name else row.layer)


def _walk(layer: Any, name: str, shape: Any, depth: int, rows: list[SummaryRow]) -> Any:
    """Add rows for ``layer`` (and its children) and return its output shape
    (``None`` when it cannot be known, e.g. inside a non-sequential container)."""
    first = next((r for r in rows if r.layer_id == id(layer)), None)
    if first is not None:  # a shared layer: its parameters are counted at its first place
        row = SummaryRow(name, f"{_describe(layer)} (same as {first.name or 'the model'})", "", 0, 0,
                         depth, id(layer))
    else:
        row = SummaryRow(name, _describe(layer), "", _count(layer.parameters()),
                         sum(a.size for a in _buffers(layer)), depth, id(layer))
    rows.append(row)
    children = _children(layer)
    if _is_chain(layer):
        inner = shape
        for child_name, child in children:
            inner = _walk(child, _join(name, child_name), inner, depth + 1, rows)
        out = inner
    else:
        out = _output_shape(layer, name, shape)
        node_shapes = getattr(layer, "node_shapes", None)  # a Graph knows each node's shape
        by_node: dict[str, Any] = node_shapes(shape) if shape is not None and callable(node_shapes) else {}
        for child_name, child in children:
            start = len(rows)
            _walk(child, _join(name, child_name), None, depth + 1, rows)
            if child_name in by_node:
                rows[start].output_shape = _format_shape(by_node[child_name])
    row.output_shape = _format_shape(out)
    return out


def _join(name: str, child: str) -> str:
    return f"{name}.{child}" if name else child


def _output_shape(layer: Any, name: str,
                  shape: tuple[int | None, ...] | None) -> tuple[int | None, ...] | None:
    if shape is None:
        return shape
    try:
        return output_shape_of(layer, shape)
    except ValueError as err:
        raise ValueError(f"summary: layer {name!r} cannot take input of shape "
                         f"{_format_shape(shape)}: {err}") from None


def _input_shape(input_features: Any) -> Any:
    """``(None, *sample)`` for one input; a list or dict of them for several; ``None`` if unknown."""
    if input_features is None:
        return None
    if isinstance(input_features, dict):
        return {name: _input_shape(shape) for name, shape in input_features.items()}
    if isinstance(input_features, (tuple, list)) and input_features and all(
            isinstance(item, (tuple, list)) for item in input_features):
        return [_input_shape(shape) for shape in input_features]
    return (None, *_sample_shape(input_features))


def _sample_shape(input_features: Any) -> tuple[int, ...]:
    if isinstance(input_features, (tuple, list)):
        return tuple(check_int(n, "summary input_features", minimum=1) for n in input_features)
    return (check_int(input_features, "summary input_features", minimum=1),)


def _is_chain(layer: Any) -> bool:
    from tinynet.layers.containers.sequential import Sequential

    return isinstance(layer, Sequential)


def _children(layer: Any) -> list[tuple[str, Any]]:
    method = getattr(layer, "named_children", None)
    return list(method()) if callable(method) else []


def _describe(layer: Any) -> str:
    extra = layer.extra_repr() if callable(getattr(layer, "extra_repr", None)) else ""
    return f"{type(layer).__name__}({extra})"


def _buffers(layer: Any) -> list[Any]:
    """Non-trained arrays of ``layer`` and below (e.g. BatchNorm's running statistics)."""
    return [array for _, array in named_buffers_of(layer)]


def _count(params: list[Any]) -> int:
    return sum(int(p.data.size) for p in params)


def _totals(model: Any) -> tuple[int, int, int]:
    buffers = _buffers(model)
    size = sum(p.data.nbytes for p in model.parameters()) + sum(a.nbytes for a in buffers)
    return _count(model.parameters()), sum(a.size for a in buffers), size


def _format_shape(shape: Any) -> str:
    if shape is None:
        return "-"
    if isinstance(shape, dict):
        return ", ".join(f"{name}: {_format_shape(s)}" for name, s in shape.items())
    if shape and isinstance(shape[0], (tuple, list)):  # several inputs or outputs
        return ", ".join(_format_shape(s) for s in shape)
    return "(" + ", ".join("B" if n is None else str(n) for n in shape) + ")"


def _kib(nbytes: int) -> str:
    return f"{nbytes / 1024:.1f} KiB"


SUMMARY_PRINTER[:] = [summary]
