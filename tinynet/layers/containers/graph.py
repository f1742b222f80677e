"""`Graph`: named layers wired into a directed acyclic graph, itself a layer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tinynet.engine.checks import did_you_mean
from tinynet.engine.types import Array, Shape
from tinynet.layers.base import Layer, LayerLike, check_layer, check_unique_layers, output_shape_of
from tinynet.layers.containers.merging import Merge

__all__ = ["Graph"]


class Graph(Layer):
    """Layers wired by name: each node is a layer fed by named values.

    Shape: ``(B, ...)`` of the input ``->`` the shape of the ``output`` node.

    ``nodes`` maps a node name to ``(layer, sources)``; each source is the
    graph's input (named by ``inputs``) or another node. A node with one
    source gets that array; a node with several sources must be a merge layer
    (:class:`tinynet.Add`, :class:`tinynet.Concat`), which gets the list::

        tn.Graph(inputs="x", nodes={
            "h":   (tn.Dense(4, 8), "x"),
            "a":   (tn.Tanh(), "h"),
            "sum": (tn.Add(), ["h", "a"]),          # h + tanh(h)
            "out": (tn.Dense(8, 3), "sum"),
        }, output="out")

    Forward evaluates the nodes in topological order (fixed at construction).
    Backward runs them in reverse; where a value feeds several nodes, the
    gradients that come back from them are **summed** (the multivariate chain
    rule). Unknown names, cycles, nodes that do not lead to ``output``, and one
    layer object used by two nodes are ``ValueError`` at construction.
    """

    def __init__(self, inputs: str, nodes: Mapping[str, Any], output: str) -> None:
        if not isinstance(inputs, str) or not inputs or "." in inputs:
            raise ValueError(f"Graph inputs must be the input's name, a non-empty str without "
                             f"'.', got {inputs!r}")
        if not isinstance(nodes, Mapping) or not nodes:
            raise ValueError(f"Graph nodes must be a non-empty dict {{name: (layer, sources)}}, "
                             f"got {nodes!r}")
        self.inputs = inputs
        self.nodes: dict[str, tuple[LayerLike, list[str]]] = {}
        for name, entry in nodes.items():
            self.nodes[name] = self._check_node(name, entry, nodes)
        if not isinstance(output, str) or output not in self.nodes:
            raise ValueError(f"Graph output must name a node{did_you_mean(output, list(self.nodes))}; "
                             f"nodes are {list(self.nodes)}, got {output!r}")
        self.output = output
        check_unique_layers(self)
        self._order = self._topological_order()
        self._check_all_used()

    def forward(self, x: Array, training: bool = True) -> Array:
        values: dict[str, Array] = {self.inputs: x}
        for name in self._order:
            layer, sources = self.nodes[name]
            args = [values[s] for s in sources]
            values[name] = layer.forward(args if isinstance(layer, Merge) else args[0], training)
        return values[self.output]

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        grads: dict[str, Array] = {self.output: grad_y}
        for name in reversed(self._order):
            layer, sources = self.nodes[name]
            grad = grads.pop(name)
            if isinstance(layer, Merge):
                grad_inputs: list[Array | None] = list(layer.backward(grad))
            else:
                # Only the graph's own input may go without a gradient.
                need = need_input_grad or sources[0] != self.inputs
                grad_inputs = [layer.backward(grad, need)]
            for source, g in zip(sources, grad_inputs):
                if g is not None:
                    grads[source] = grads[source] + g if source in grads else g
        return grads.get(self.inputs) if need_input_grad else None

    def named_children(self) -> list[tuple[str, LayerLike]]:
        return [(name, layer) for name, (layer, _) in self.nodes.items()]

    def output_shape(self, input_shape: Shape) -> Shape:
        shapes: dict[str, Shape] = {self.inputs: tuple(input_shape)}
        for name in self._order:
            layer, sources = self.nodes[name]
            args = [shapes[s] for s in sources]
            try:
                if isinstance(layer, Merge):
                    shapes[name] = layer.output_shape(args)
                else:
                    shapes[name] = output_shape_of(layer, args[0])
            except ValueError as err:
                raise ValueError(f"Graph node {name!r}: {err}") from None
        return shapes[self.output]

    def get_config(self) -> dict[str, Any]:
        return {"inputs": self.inputs,
                "nodes": {name: [layer, list(sources)] for name, (layer, sources) in self.nodes.items()},
                "output": self.output}

    def extra_repr(self) -> str:
        return f"inputs={self.inputs!r}, output={self.output!r}"

    def __repr__(self) -> str:
        lines = [f"Graph({self.extra_repr()}"]
        for name, (layer, sources) in self.nodes.items():
            body = repr(layer).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body} <- {', '.join(sources)}")
        return "\n".join(lines) + "\n)"

    def _check_node(self, name: Any, entry: Any, nodes: Mapping[str, Any]) -> tuple[LayerLike, list[str]]:
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"Graph node names must be non-empty str without '.', got {name!r}")
        if name == self.inputs:
            raise ValueError(f"Graph node {name!r} has the input's name; rename one of them")
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise ValueError(f"Graph node {name!r} must be (layer, sources), e.g. "
                             f"(tn.Dense(4, 8), 'x'), got {entry!r}")
        layer, sources = entry
        check_layer(layer, f"Graph node {name!r}")
        sources = [sources] if isinstance(sources, str) else sources
        if not isinstance(sources, (list, tuple)) or not sources or not all(
                isinstance(s, str) for s in sources):
            raise ValueError(f"Graph node {name!r}: sources must be a name or a non-empty list "
                             f"of names, got {entry[1]!r}")
        for source in sources:
            if source != self.inputs and source not in nodes:
                known = [self.inputs, *nodes]
                raise ValueError(f"Graph node {name!r} is fed by unknown {source!r}"
                                 f"{did_you_mean(source, known)}; known names are {known}")
        if len(sources) > 1 and not isinstance(layer, Merge):
            raise ValueError(f"Graph node {name!r} has {len(sources)} sources but "
                             f"{type(layer).__name__} takes one array; join them with a node "
                             f"(tn.Add(), {list(sources)}) or (tn.Concat(), {list(sources)})")
        return layer, list(sources)

    def _topological_order(self) -> list[str]:
        """Kahn's algorithm, taking ready nodes in the order they were given."""
        done = {self.inputs}
        order: list[str] = []
        pending = list(self.nodes)
        while pending:
            ready = [n for n in pending if all(s in done for s in self.nodes[n][1])]
            if not ready:
                raise ValueError(f"Graph has a cycle among the nodes {pending}: each waits for "
                                 f"another of them")
            for name in ready:
                order.append(name)
                done.add(name)
            pending = [n for n in pending if n not in done]
        return order

    def _check_all_used(self) -> None:
        used = {self.output}
        for name in reversed(self._order):
            if name in used:
                used.update(self.nodes[name][1])
        unused = [n for n in self.nodes if n not in used]
        if unused:
            raise ValueError(f"Graph nodes {unused} do not lead to the output {self.output!r}; "
                             f"remove them or wire them in")
