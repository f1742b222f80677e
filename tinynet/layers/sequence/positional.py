"""Positions added to a sequence of vectors: learned (`PositionalEmbedding`) or fixed
sinusoids (`SinusoidalPositionalEncoding`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int, check_number
from tinynet.engine.contraction import Plans
from tinynet.layers.base import Array, Layer
from tinynet.layers.initializers import RngLike, as_generator
from tinynet.layers.input_checks import numeric_array
from tinynet.layers.parameter import Parameter

__all__ = ["PositionalEmbedding", "SinusoidalPositionalEncoding", "checked_sequence"]


def checked_sequence(x: Any, name: str, dim: int, dtype: np.dtype[Any] | None) -> Array:
    """``x`` as a ``(B, T, dim)`` float array (cast to ``dtype`` when given), or an error
    naming the layer, the expected shape and what came."""
    x = numeric_array(x, name, f"an array (batch, T, {dim})")
    if x.ndim != 3 or x.shape[-1] != dim:
        raise ValueError(f"{name} expects input of shape (batch, T, {dim}), got {x.shape}")
    if dtype is not None:
        return x.astype(dtype, copy=False)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


class PositionalEmbedding(Layer):
    """A learned vector per position, added to the input (BERT's and GPT-2's positions).

    Shape: ``(B, T, D) -> (B, T, D)`` with ``T <= max_len``; a longer sequence is refused.

    Math (``t`` = position, ``d`` = feature), with ``g = dL/dy``::

        y[B,t,d]  = x[B,t,d] + W[t,d]
        dW[t,d]  += sum_B g[B,t,d]            GRAD_WEIGHT  "Btd->td"
        dx        = g

    ``weight (max_len, D)`` is drawn from ``N(0, 1)``, as an ``nn.Embedding`` of
    positions is in PyTorch.
    """

    GRAD_WEIGHT = "Btd->td"
    input_ndim = 3

    def __init__(self, max_len: int, dim: int, rng: RngLike = None, dtype: DTypeLike = np.float64) -> None:
        self.max_len = check_int(max_len, "PositionalEmbedding max_len", minimum=1)
        self.dim = check_int(dim, "PositionalEmbedding dim", minimum=1)
        dt = check_float_dtype(dtype, "PositionalEmbedding dtype")
        weight = as_generator(rng, "PositionalEmbedding rng").standard_normal((self.max_len, self.dim))
        self.weight = Parameter(weight.astype(dt), "weight")
        self.plans = Plans()

    def forward(self, x: Array, training: bool = True) -> Array:
        w = self.weight.data
        if type(x) is not np.ndarray or x.ndim != 3 or x.shape[-1] != self.dim or x.dtype != w.dtype:
            x = checked_sequence(x, repr(self), self.dim, w.dtype)
        steps = x.shape[1]
        if steps > self.max_len:
            raise ValueError(f"{self!r} expects sequences of at most max_len={self.max_len} positions, "
                             f"got input of shape {x.shape} ({steps} positions); raise max_len")
        if training:
            self.save_for_backward(steps)
        return x + w[:steps]

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        (steps,) = self.saved_for_backward()
        if steps == self.max_len:
            self.weight.accumulate(self.GRAD_WEIGHT, grad_y)
        else:
            self.weight.grad[:steps] += self.plans[self.GRAD_WEIGHT](grad_y)
        return grad_y if need_input_grad else None

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if len(input_shape) != 3 or input_shape[-1] != self.dim:
            raise ValueError(f"{self!r} expects input of shape (batch, T, {self.dim}), got {input_shape}")
        steps = input_shape[1]
        if steps is not None and steps > self.max_len:
            raise ValueError(f"{self!r} expects sequences of at most max_len={self.max_len} positions, "
                             f"got {input_shape}")
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {"max_len": self.max_len, "dim": self.dim, "dtype": self.weight.dtype.name}

    def extra_repr(self) -> str:
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return f"max_len={self.max_len}, dim={self.dim}{dtype}"


class SinusoidalPositionalEncoding(Layer):
    """Fixed sinusoids added to the input (Vaswani et al. 2017); no parameters.

    Shape: ``(B, T, D) -> (B, T, D)``, any ``T``; float32 stays float32.

    With ``i = 0, 1, ...`` the feature pairs and ``t`` the position::

        P[t, 2i]   = sin(t / base^(2i / D))
        P[t, 2i+1] = cos(t / base^(2i / D))
        y = x + P,     dx = g

    The table is computed for the longest sequence seen so far and kept.
    """

    input_ndim = 3

    def __init__(self, dim: int, base: float = 10000.0) -> None:
        self.dim = check_int(dim, "SinusoidalPositionalEncoding dim", minimum=1)
        self.base = check_number(base, "SinusoidalPositionalEncoding base", low=1, low_open=True)
        self._table = np.zeros((0, self.dim))

    def table(self, steps: int) -> Array:
        """``P[:steps]``, float64, shape ``(steps, D)``."""
        if steps > len(self._table):
            position = np.arange(steps, dtype=np.float64)[:, None]
            frequency = self.base ** (-np.arange(0, self.dim, 2, dtype=np.float64) / self.dim)
            angle = position * frequency  # (T, ceil(D / 2))
            table = np.empty((steps, self.dim))
            table[:, 0::2] = np.sin(angle)
            table[:, 1::2] = np.cos(angle[:, :self.dim // 2])
            self._table = table
        return self._table[:steps]

    def forward(self, x: Array, training: bool = True) -> Array:
        if type(x) is not np.ndarray or x.ndim != 3 or x.shape[-1] != self.dim or x.dtype.kind != "f":
            x = checked_sequence(x, repr(self), self.dim, None)
        if training:
            self.save_for_backward()
        return x + self.table(x.shape[1]).astype(x.dtype, copy=False)

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        self.saved_for_backward()
        return grad_y if need_input_grad else None

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if len(input_shape) != 3 or input_shape[-1] != self.dim:
            raise ValueError(f"{self!r} expects input of shape (batch, T, {self.dim}), got {input_shape}")
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim, "base": self.base}

    def extra_repr(self) -> str:
        return f"dim={self.dim}" + ("" if self.base == 10000.0 else f", base={self.base}")
