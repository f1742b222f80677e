"""Whose forward saved which values: a layer shared by two models, their calls interleaved.

Each forward call keeps its values on the layer (``Layer.save_for_backward``), and
backward takes them last in, first out. That alone is right for one model,
however often it uses a layer, but not for one layer shared by two models whose
calls interleave: ``a.forward``, ``b.forward``, ``a.backward`` would hand ``a``
the values of ``b``'s call. So the outermost container running a forward or a
backward (the *pass*) is remembered here, each saved entry notes its pass, and a
backward takes the latest entry of its own pass, as PyTorch's autograd would.

While a layer's entries all come from one pass (every ordinary training step),
its stack is a plain list and nothing is looked up; the first entry from a
second pass turns it into an :class:`EntriesByPass`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = ["CURRENT", "EntriesByPass", "marks_pass"]

Method = TypeVar("Method", bound=Callable[..., Any])


class _CurrentPass:
    root: Any = None  # the outermost container whose forward or backward runs now


CURRENT = _CurrentPass()


def marks_pass(method: Method) -> Method:
    """Decorator for a container's ``forward(x, training=True)`` and
    ``backward(grad_y, need_input_grad=True)``: when it is the
    outermost one running, the values saved (or taken) below it are its pass's.

    Every built-in container uses it; a user's container that should share
    layers with another model whose calls interleave with its own uses it too.
    """

    # The arguments spelled out, not *args: Python inlines a call with exact arguments.
    def backward(self: Any, grad_y: Any, need_input_grad: bool = True) -> Any:
        if CURRENT.root is not None:  # nested: the outer container's pass
            return method(self, grad_y, need_input_grad)
        CURRENT.root = self
        try:
            return method(self, grad_y, need_input_grad)
        finally:
            CURRENT.root = None

    def forward(self: Any, x: Any, training: bool = True) -> Any:
        if CURRENT.root is not None:
            return method(self, x, training)
        CURRENT.root = self
        try:
            return method(self, x, training)
        finally:
            CURRENT.root = None

    run = backward if method.__name__ == "backward" else forward
    return functools.update_wrapper(run, method)  # type: ignore[return-value]


class EntriesByPass(list):
    """A layer's saved entries, each noting the pass that saved it.

    ``append`` notes the current pass; ``pop`` takes the latest entry of the
    current pass (the latest of all when that pass saved none here, as when a
    user calls the layer's backward by hand).
    """

    def __init__(self, entries: Iterable[Any], root: Any) -> None:
        super().__init__(entries)
        self.roots = [root] * len(self)

    def append(self, entry: Any) -> None:
        super().append(entry)
        self.roots.append(CURRENT.root)

    def pop(self, index: Any = -1) -> Any:
        if index == -1:
            root = CURRENT.root
            index = next((i for i in range(len(self) - 1, -1, -1) if self.roots[i] is root), -1)
        self.roots.pop(index)
        return super().pop(index)

    def drop_pass(self, root: Any) -> None:
        """Forget the entries of ``root``'s pass (all of them if it has none here)."""
        keep = [i for i, r in enumerate(self.roots) if r is not root]
        if len(keep) == len(self):
            keep = []
        self[:] = [self[i] for i in keep]
        self.roots = [self.roots[i] for i in keep]
