"""Branching blocks: `Residual` (a skip connection) and `Parallel` (branches joined)."""

from __future__ import annotations

from typing import Any

from tinynet.engine.checks import check_choice
from tinynet.engine.types import Array, Shape
from tinynet.layers.base import Layer, LayerLike, check_layer, output_shape_of
from tinynet.layers.containers.merging import Add, Concat, Merge
from tinynet.layers.saved_values import marks_pass

__all__ = ["Residual", "Parallel"]


class Residual(Layer):
    """``y = x + block(x)``: a skip connection around ``block``.

    Shape: ``(B, ...) -> (B, ...)``; ``block`` must keep the shape.
    Backward: ``dx = g + block.backward(g)`` (the identity path passes ``g`` through).
    """

    def __init__(self, block: LayerLike) -> None:
        check_layer(block, "Residual block")
        self.block = block

    @marks_pass
    def forward(self, x: Array, training: bool = True) -> Array:
        y = self.block.forward(x, training)
        if y.shape != x.shape:
            raise ValueError(f"Residual: the block maps shape {x.shape} to {y.shape}, but "
                             f"y = x + block(x) needs the block to keep the shape")
        return x + y

    @marks_pass
    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        grad_block = self.block.backward(grad_y, need_input_grad)
        if not need_input_grad:
            return None
        assert grad_block is not None
        return grad_y + grad_block

    def named_children(self) -> list[tuple[str, LayerLike]]:
        return [("block", self.block)]

    def output_shape(self, input_shape: Shape) -> Shape:
        shape = output_shape_of(self.block, input_shape)
        if shape != tuple(input_shape):
            raise ValueError(f"Residual: the block maps shape {input_shape} to {shape}, but "
                             f"y = x + block(x) needs the block to keep the shape")
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"block": self.block}


class Parallel(Layer):
    """Every branch on the same input, joined by ``join``.

    Shape: ``"concat"``: ``(B, in) -> (B, out_1 + out_2 + ...)`` (along the last
    axis); ``"sum"``: ``(B, in) -> (B, out)`` with every branch giving ``(B, out)``.
    Backward: each branch gets its slice of ``g`` (concat) or all of ``g`` (sum),
    and ``dx`` is the sum of the branches' input gradients.
    """

    JOINS = ("concat", "sum")

    def __init__(self, *branches: LayerLike, join: str = "concat") -> None:
        if len(branches) == 1 and isinstance(branches[0], (list, tuple)):
            branches = tuple(branches[0])
        if not branches:
            raise ValueError("Parallel needs at least one branch")
        for index, branch in enumerate(branches):
            check_layer(branch, f"Parallel branch {index}")
        self.branches: list[LayerLike] = list(branches)
        self.join = check_choice(join, "Parallel join", self.JOINS)
        self._merge: Merge = Concat(-1) if join == "concat" else Add()

    @marks_pass
    def forward(self, x: Array, training: bool = True) -> Array:
        return self._merge.forward([branch.forward(x, training) for branch in self.branches], training)

    @marks_pass
    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        grads = self._merge.backward(grad_y)
        grad_x: Array | None = None
        # Last branch first: a layer shared by two branches answers its last forward call first.
        for branch, grad in zip(reversed(self.branches), reversed(grads)):
            g = branch.backward(grad, need_input_grad)
            if need_input_grad and g is not None:
                grad_x = g if grad_x is None else grad_x + g
        return grad_x

    def named_children(self) -> list[tuple[str, LayerLike]]:
        return [(str(i), branch) for i, branch in enumerate(self.branches)]

    def output_shape(self, input_shape: Shape) -> Shape:
        shapes = [output_shape_of(branch, input_shape) for branch in self.branches]
        try:
            return self._merge.combined_shape(shapes)
        except ValueError as err:
            raise ValueError(f"Parallel(join={self.join!r}): {err}") from None

    def get_config(self) -> dict[str, Any]:
        return {"branches": list(self.branches), "join": self.join}

    def extra_repr(self) -> str:
        return f"join={self.join!r}"
