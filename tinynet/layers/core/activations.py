"""Elementwise activations. Each keeps what its backward needs, per forward call.

Shape: any ``(B, ...) -> (B, ...)``; ``grad_x = grad_y * f'(x)`` elementwise.
Constants are cast to the input's dtype so float32 stays float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.checks import check_choice, check_number
from tinynet.engine.contraction import einsum
from tinynet.engine.stable_functions import sigmoid, softmax
from tinynet.layers.base import Array, Layer

__all__ = ["LeakyReLU", "ReLU", "Sigmoid", "Tanh", "Identity", "Softmax", "GELU"]


def gradient_shape_error(layer: Layer, grad_y: Any, shape: tuple[int, ...]) -> ValueError:
    """The error for a ``grad_y`` that is not shaped like the forward call's output."""
    got = f"shape {grad_y.shape}" if isinstance(grad_y, np.ndarray) else type(grad_y).__name__
    return ValueError(f"{type(layer).__name__}.backward: grad_y must have the shape of the forward "
                      f"call's output {shape}, got {got}")


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
        scaled = x * self.alpha  # (a Python float keeps x's dtype)
        return np.maximum(x, scaled) if self.alpha <= 1 else np.minimum(x, scaled)

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        alpha = grad_y.dtype.type(self.alpha)
        (positive,) = self.saved_for_backward()
        # f'(x) = alpha + (1 - alpha) [x > 0], built in place: np.where on a mixed-sign mask
        # branches per element and is several times slower on large arrays.
        slope = positive.astype(grad_y.dtype)
        slope *= 1 - alpha
        slope += alpha
        try:
            slope *= grad_y
        except (ValueError, TypeError):  # (the check costs nothing until it fails)
            raise gradient_shape_error(self, grad_y, positive.shape) from None
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
        try:
            return grad_y * positive
        except (ValueError, TypeError):  # (the check costs nothing until it fails)
            raise gradient_shape_error(self, grad_y, positive.shape) from None


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


class GELU(Layer):
    """Gaussian error linear unit (Hendrycks & Gimpel 2016), as PyTorch's ``nn.GELU``.

    Shape: any ``(B, ...) -> (B, ...)``.

    ``approximate="none"`` (PyTorch's default) is the exact form, with ``Phi`` the
    standard normal distribution function and ``phi`` its density::

        y  = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2
        dx = g (Phi(x) + x phi(x)),      phi(x) = exp(-x^2 / 2) / sqrt(2 pi)

    ``approximate="tanh"`` is GPT-2's form, with ``u = sqrt(2/pi) (x + 0.044715 x^3)``::

        y  = x (1 + tanh u) / 2
        dx = g ((1 + tanh u) / 2 + x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 0.044715 x^2) / 2)

    numpy has no ``erf``: the exact form imports ``scipy.special.erf`` when it first
    runs (scipy comes with scikit-learn), so ``import tinynet`` stays light.
    """

    def __init__(self, approximate: str = "none") -> None:
        self.approximate = check_choice(approximate, "GELU approximate", ("none", "tanh"))

    def forward(self, x: Array, training: bool = True) -> Array:
        if self.approximate == "tanh":
            c = x.dtype.type(np.sqrt(2 / np.pi))
            t = np.tanh(c * (x + x.dtype.type(0.044715) * x * x * x))
            if training:
                self.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        from scipy.special import erf  # lazily: scipy is heavy, and only this layer needs it

        cdf = 0.5 * (1 + erf(x * x.dtype.type(1 / np.sqrt(2))))
        if training:
            self.save_for_backward(x, cdf)
        return x * cdf

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        x, saved = self.saved_for_backward()
        if self.approximate == "tanh":
            c = x.dtype.type(np.sqrt(2 / np.pi))
            inner = c * (1 + x.dtype.type(3 * 0.044715) * x * x)
            return grad_y * (0.5 * (1 + saved) + 0.5 * x * (1 - saved * saved) * inner)
        pdf = np.exp(-0.5 * x * x) * x.dtype.type(1 / np.sqrt(2 * np.pi))
        return grad_y * (saved + x * pdf)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"
