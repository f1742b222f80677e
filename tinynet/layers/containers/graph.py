"""`Graph`: named layers wired into a directed acyclic graph, itself a layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tinynet.engine.checks import did_you_mean
from tinynet.engine.types import Array, Shape
from tinynet.layers.base import Layer, LayerLike, check_layer, output_shape_of
from tinynet.layers.containers.merging import Merge
from tinynet.layers.saved_values import marks_pass

__all__ = ["Graph"]


class Graph(Layer):
    """Layers wired by name (Keras's functional style): each node is a layer fed by named values.

    Shape: one input ``(B, ...)`` (or several, given as a tuple in the order of
    ``inputs`` or as a dict by name) ``->`` the shape of the ``output`` node (or a
    tuple of arrays when ``output`` lists several nodes).

    ``nodes`` maps a node name to ``(layer, sources)``; each source is one of the
    graph's inputs or another node. A node with one source gets that array; a
    node with several sources must be a merge layer (:class:`tinynet.Add`,
    :class:`tinynet.Concat`, :class:`tinynet.EinsumMerge`), which gets the list::

        tn.Graph(inputs=["q", "k"], nodes={
            "qh":     (tn.Dense(4, 8), "q"),
            "kh":     (tn.Dense(4, 8), "k"),
            "scores": (tn.EinsumMerge("Bqd,Bkd->Bqk"), ["qh", "kh"]),
        }, output="scores")

    Forward evaluates the nodes in topological order (fixed at construction).
    Backward runs them in reverse; where a value feeds several nodes, the
    gradients that come back from them are **summed** (the multivariate chain
    rule). One layer object may sit at several nodes (shared weights): each use
    keeps its own forward values and its parameters' gradients add up. Unknown
    names, cycles, nodes that do not lead to an output, and inputs that feed
    nothing are ``ValueError`` at construction.
    """

    def __init__(self, inputs: str | Sequence[str], nodes: Mapping[str, Any],
                 output: str | Sequence[str]) -> None:
        self.inputs = inputs if isinstance(inputs, str) else list(inputs) if isinstance(
            inputs, (list, tuple)) else inputs
        self._input_names = self._check_names(inputs, "inputs", "the input's name")
        if not isinstance(nodes, Mapping) or not nodes:
            raise ValueError(f"Graph nodes must be a non-empty dict {{name: (layer, sources)}}, "
                             f"got {nodes!r}")
        self.nodes: dict[str, tuple[LayerLike, list[str]]] = {}
        for name, entry in nodes.items():
            self.nodes[name] = self._check_node(name, entry, nodes)
        self.output = output if isinstance(output, str) else list(output) if isinstance(
            output, (list, tuple)) else output
        self._output_names = self._check_names(output, "output", "a node's name")
        for name in self._output_names:
            if name not in self.nodes:
                raise ValueError(f"Graph output must name a node{did_you_mean(name, list(self.nodes))}; "
                                 f"nodes are {list(self.nodes)}, got {name!r}")
        self._order = self._topological_order()
        self._check_all_used()

    @marks_pass
    def forward(self, x: Any, training: bool = True) -> Any:
        values = self.bind_inputs(x)
        for name in self._order:
            layer, sources = self.nodes[name]
            args = [values[s] for s in sources]
            values[name] = layer.forward(args if isinstance(layer, Merge) else args[0], training)
        outputs = [values[name] for name in self._output_names]
        if training:
            self.save_for_backward([(y.shape, y.dtype) for y in outputs])
        return outputs[0] if isinstance(self.output, str) else tuple(outputs)

    @marks_pass
    def backward(self, grad_y: Any, need_input_grad: bool = True) -> Any:
        (output_specs,) = self.saved_for_backward()
        grads: dict[str, Array] = {}
        for name, g, (shape, dtype) in zip(self._output_names, self._output_grads(grad_y), output_specs):
            g = np.zeros(shape, dtype) if g is None else g  # an output the loss does not use
            grads[name] = grads[name] + g if name in grads else g
        inputs = set(self._input_names)
        for name in reversed(self._order):
            layer, sources = self.nodes[name]
            grad = grads.pop(name)
            if isinstance(layer, Merge):
                grad_inputs: list[Array | None] = list(layer.backward(grad))
            else:
                # Only the graph's own inputs may go without a gradient.
                need = need_input_grad or sources[0] not in inputs
                grad_inputs = [layer.backward(grad, need)]
            for source, g in zip(sources, grad_inputs):
                if g is not None:
                    grads[source] = grads[source] + g if source in grads else g
        if not need_input_grad:
            return None
        if isinstance(self.inputs, str):
            return grads.get(self.inputs)
        return tuple(grads.get(name) for name in self._input_names)

    def bind_inputs(self, x: Any) -> dict[str, Any]:
        """The graph's input values by name, from one array, a tuple (in order) or a dict;
        ``ValueError`` naming the inputs when ``x`` does not fit them."""
        if isinstance(self.inputs, str):
            return {self.inputs: x}
        names = self._input_names
        if isinstance(x, Mapping):
            missing = [n for n in names if n not in x]
            extra = [k for k in x if k not in names]
            if missing or extra:
                raise ValueError(f"Graph inputs are {names}; the dict given lacks {missing} and has "
                                 f"unknown {extra}")
            return {n: x[n] for n in names}
        if not isinstance(x, (tuple, list)) or len(x) != len(names):
            got = f"{len(x)} arrays" if isinstance(x, (tuple, list)) else type(x).__name__
            raise ValueError(f"the Graph has {len(names)} inputs {names}: pass a tuple of {len(names)} "
                             f"arrays in that order or a dict by name, got {got}")
        return dict(zip(names, x))

    def _output_grads(self, grad_y: Any) -> list[Array | None]:
        if isinstance(self.output, str):
            return [grad_y]
        if not isinstance(grad_y, (tuple, list)) or len(grad_y) != len(self._output_names):
            raise ValueError(f"Graph has {len(self._output_names)} outputs {self._output_names}: "
                             f"backward needs a tuple of as many gradients (None for an unused one)")
        return list(grad_y)

    def named_children(self) -> list[tuple[str, LayerLike]]:
        return [(name, layer) for name, (layer, _) in self.nodes.items()]

    def output_shape(self, input_shape: Any) -> Any:
        """The output shape (a tuple of them for several outputs) for the input shape
        (a sequence of shapes, or a dict by name, for several inputs)."""
        shapes = self.node_shapes(input_shape)
        outputs = [shapes[name] for name in self._output_names]
        return outputs[0] if isinstance(self.output, str) else tuple(outputs)

    def node_shapes(self, input_shape: Any) -> dict[str, Shape]:
        """The output shape of every node (and the inputs' shapes), by name."""
        bound = self.bind_inputs(input_shape)
        shapes: dict[str, Shape] = {name: tuple(shape) for name, shape in bound.items()}
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
        return shapes

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
        if name in self._input_names:
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
            if source not in self._input_names and source not in nodes:
                known = [*self._input_names, *nodes]
                raise ValueError(f"Graph node {name!r} is fed by unknown {source!r}"
                                 f"{did_you_mean(source, known)}; known names are {known}")
        if len(sources) > 1 and not isinstance(layer, Merge):
            raise ValueError(f"Graph node {name!r} has {len(sources)} sources but "
                             f"{type(layer).__name__} takes one array; join them with a node "
                             f"(tn.Add(), {list(sources)}) or (tn.Concat(), {list(sources)})")
        return layer, list(sources)

    @staticmethod
    def _check_names(names: Any, argument: str, what: str) -> list[str]:
        """``names`` (one str or a list of them) as a list of distinct names without '.'."""
        listed = [names] if isinstance(names, str) else names
        if not isinstance(listed, (list, tuple)) or not listed or not all(
                isinstance(n, str) and n and "." not in n for n in listed):
            raise ValueError(f"Graph {argument} must be {what} or a non-empty list of them: str "
                             f"without '.', got {names!r}")
        if len(set(listed)) != len(listed):
            raise ValueError(f"Graph {argument} names one value twice: {list(listed)}")
        return list(listed)

    def _topological_order(self) -> list[str]:
        """Kahn's algorithm in rounds, each round's ready nodes in the order they were given.

        Linear in nodes and edges: each node counts the sources it still waits for, and
        finishing a node only visits the nodes it feeds.
        """
        position = {name: i for i, name in enumerate(self.nodes)}
        waiting = {name: 0 for name in self.nodes}
        feeds: dict[str, list[str]] = {}
        for name, (_, sources) in self.nodes.items():
            for source in sources:
                if source in position:  # a node, not one of the graph's inputs
                    waiting[name] += 1
                    feeds.setdefault(source, []).append(name)
        ready = [name for name in self.nodes if waiting[name] == 0]
        order: list[str] = []
        while ready:
            order.extend(ready)
            following = []
            for name in ready:
                for fed in feeds.get(name, ()):
                    waiting[fed] -= 1
                    if waiting[fed] == 0:
                        following.append(fed)
            ready = sorted(following, key=position.__getitem__)
        if len(order) < len(self.nodes):
            done = set(order)
            pending = [name for name in self.nodes if name not in done]
            raise ValueError(f"Graph has a cycle among the nodes {pending}: each waits for "
                             f"another of them")
        return order

    def _check_all_used(self) -> None:
        used = set(self._output_names)
        for name in reversed(self._order):
            if name in used:
                used.update(self.nodes[name][1])
        unused = [n for n in self.nodes if n not in used]
        if unused:
            raise ValueError(f"Graph nodes {unused} do not lead to the output {self.output!r}; "
                             f"remove them or wire them in")
        idle = [name for name in self._input_names if name not in used]
        if idle:
            raise ValueError(f"Graph inputs {idle} feed no node that leads to the output; remove "
                             f"them or wire them in")
