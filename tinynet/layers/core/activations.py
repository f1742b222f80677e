"""Elementwise activations. Each keeps what its backward needs, per forward call.

Shape: any ``(B, ...) -> (B, ...)``; ``grad_x = grad_y * f'(x)`` elementwise.
Constants are cast to the input's dtype so float32 stays float32.
"""

from __future__ import annotations

import numpy as np

from tinynet.engine.checks import check_number
from tinynet.engine.contraction import einsum
from tinynet.engine.stable_functions import sigmoid, softmax
from tinynet.layers.base import Array, Layer

__all__ = ["LeakyReLU", "ReLU", "Sigmoid", "Tanh", "Identity", "Softmax"]


class LeakyReLU(Layer):
    """``y = x if x > 0 else alpha * x``; ``f'(x) = 1 if x > 0 else alpha``.

    Shape: any ``(B, ...) -> (B, ...)``.

    ``max(x, alpha x)`` is that function for ``0 <= alpha <= 1`` and is cheaper
    than ``np.where`` on mixed-sign data. Forward keeps only the mask ``x > 0``
    for backward, a quarter of ``x``'s bytes.
    """

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = check_number(alpha, "LeakyReLU alpha", low=0.0)

    def forward(self, x: Array, training: bool = True) -> Array:
        if training:
            self.save_for_backward(x > 0)
        scaled = x * x.dtype.type(self.alpha)
        return np.maximum(x, scaled) if self.alpha <= 1 else np.minimum(x, scaled)

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        alpha = grad_y.dtype.type(self.alpha)
        (positive,) = self.saved_for_backward()
        slope = positive.astype(grad_y.dtype)  # f'(x) = alpha + (1 - alpha) [x > 0], built in place
        slope *= 1 - alpha
        slope += alpha
        slope *= grad_y
        return slope

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class ReLU(Layer):
    """``y = max(x, 0)``; ``f'(x) = 1 if x > 0 else 0``.

    Shape: any ``(B, ...) -> (B, ...)``.
    """

    def forward(self, x: Array, training: bool = True) -> Array:
        if training:
            self.save_for_backward(x > 0)
        return np.maximum(x, 0)

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (positive,) = self.saved_for_backward()
        return grad_y * positive


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``; ``f'(x) = y (1 - y)``.

    Shape: any ``(B, ...) -> (B, ...)``.

    Computed by :func:`tinynet.engine.stable_functions.sigmoid` from ``exp(-|x|)``, so ``exp``
    never overflows and tiny values keep their precision.
    """

    def forward(self, x: Array, training: bool = True) -> Array:
        y = sigmoid(x)
        if training:
            self.save_for_backward(y)
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (y,) = self.saved_for_backward()
        return grad_y * y * (1 - y)


class Tanh(Layer):
    """``y = tanh(x)``; ``f'(x) = 1 - y^2``.

    Shape: any ``(B, ...) -> (B, ...)``.
    """

    def forward(self, x: Array, training: bool = True) -> Array:
        y = np.tanh(x)
        if training:
            self.save_for_backward(y)
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (y,) = self.saved_for_backward()
        return grad_y * (1 - y * y)


class Identity(Layer):
    """``y = x``; passes the gradient through unchanged.

    Shape: any ``(B, ...) -> (B, ...)``.
    """

    def forward(self, x: Array, training: bool = True) -> Array:
        if training:
            self.save_for_backward()  # nothing to keep, but each backward answers one forward
        return x

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        self.saved_for_backward()
        return grad_y


class Softmax(Layer):
    """Softmax over the last axis, for probabilities at inference.

    Shape: ``(B, ..., C) -> (B, ..., C)``, over the last axis.

    Train with :class:`tinynet.SoftmaxCrossEntropy` on the logits instead: the
    fused loss is stabler and cheaper. Backward, with ``p = y`` (one row)::

        dx[B,i] = p[B,i] (g[B,i] - sum_j g[B,j] p[B,j])     "Bj,Bj->B"
    """

    ROW_DOT = "Bj,Bj->B"

    def forward(self, x: Array, training: bool = True) -> Array:
        p = softmax(x)
        if training:
            self.save_for_backward(p)
        return p

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (p,) = self.saved_for_backward()
        if p.ndim != 2:  # rows of any leading shape: one (rows, classes) matrix
            rows = (-1, p.shape[-1])
            return self._backward_2d(grad_y.reshape(rows), p.reshape(rows)).reshape(p.shape)
        return self._backward_2d(grad_y, p)

    def _backward_2d(self, grad_y: Array, p: Array) -> Array:
        inner = einsum(self.ROW_DOT, grad_y, p)[:, None]
        return p * (grad_y - inner)
