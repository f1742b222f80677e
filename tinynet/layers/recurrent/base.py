"""What LSTM and GRU share: PyTorch's parameters and initialisation, the input check,
the output shape and the config; each subclass writes its own step and its backward."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int
from tinynet.engine.contraction import Plans
from tinynet.engine.scratch import ScratchPool
from tinynet.layers.base import Array, Layer
from tinynet.layers.initializers import RngLike, as_generator
from tinynet.layers.input_checks import numeric_array
from tinynet.layers.parameter import Parameter

__all__ = ["RecurrentLayer"]


class RecurrentLayer(Layer):
    """Base of :class:`tinynet.LSTM` and :class:`tinynet.GRU`: one layer over ``(B, T, I)``.

    Shape: ``(B, T, I) -> (B, T, H)``, or ``(B, H)`` (the last step) with
    ``return_sequences=False``.

    Parameters, as PyTorch's ``nn.LSTM``/``nn.GRU`` name and lay them out for their first
    layer, with ``GATES`` gate blocks of ``H`` rows stacked (``G = GATES * H``):
    ``weight_ih_l0 (G, I)``, ``weight_hh_l0 (G, H)``, ``bias_ih_l0 (G,)``, ``bias_hh_l0 (G,)``,
    each drawn uniform in ``[-1/sqrt(H), 1/sqrt(H)]`` in that order (PyTorch's default).
    """

    GATES = 0  # gate blocks of H rows: 4 for LSTM (i, f, g, o), 3 for GRU (r, z, n)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, return_sequences: bool = True,
                 rng: RngLike = None, dtype: DTypeLike = np.float64) -> None:
        name = type(self).__name__
        self.input_size = check_int(input_size, f"{name} input_size", minimum=1)
        self.hidden_size = check_int(hidden_size, f"{name} hidden_size", minimum=1)
        for flag, value in (("bias", bias), ("return_sequences", return_sequences)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} {flag} must be True or False, got {value!r}")
        self.return_sequences = bool(return_sequences)
        dtype = check_float_dtype(dtype, f"{name} dtype")
        gen = as_generator(rng, f"{name} rng")
        rows, bound = self.GATES * self.hidden_size, 1 / np.sqrt(self.hidden_size)

        def uniform(*shape: int) -> Array:
            return gen.uniform(-bound, bound, shape).astype(dtype)

        self.weight_ih_l0 = Parameter(uniform(rows, self.input_size), "weight_ih_l0")
        self.weight_hh_l0 = Parameter(uniform(rows, self.hidden_size), "weight_hh_l0")
        self.bias_ih_l0 = Parameter(uniform(rows), "bias_ih_l0") if bias else None
        self.bias_hh_l0 = Parameter(uniform(rows), "bias_hh_l0") if bias else None
        self.plans = Plans()
        # The time loop's megabytes of gates and states, reused from call to call (a fresh
        # array costs a page fault per 4 KB, more than a step's arithmetic).
        self.scratch = ScratchPool(limit=12)

    @property
    def bias(self) -> bool:
        return self.bias_ih_l0 is not None

    def checked_input(self, x: Any) -> Array:
        """``x`` as a ``(B, T, I)`` array of the weights' dtype, or an error naming the layer,
        the shape it expects and the shape that came."""
        w = self.weight_ih_l0.data
        if type(x) is np.ndarray and x.ndim == 3 and x.shape[2] == self.input_size and x.shape[1] \
                and x.dtype == w.dtype:
            return x
        name = f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size})"
        x = numeric_array(x, name)
        wanted = f"(batch, time, {self.input_size})"
        if x.ndim != 3 or x.shape[2] != self.input_size:
            hint = ""
            if x.ndim == 2 and x.shape[1] == self.input_size:
                hint = "; for one sequence of T steps use x[None] (batch of 1)"
            elif x.ndim == 2:
                hint = "; for sequences of one feature per step use x[:, :, None]"
            elif x.ndim == 3:
                hint = f"; the data gives {x.shape[2]} features per step"
            raise ValueError(f"{name} expects input of shape {wanted}, got {x.shape}{hint}")
        if x.shape[1] == 0:
            raise ValueError(f"{name} expects input of shape {wanted} with at least one step, got {x.shape}")
        return x.astype(w.dtype, copy=False)

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if len(input_shape) != 3 or input_shape[2] != self.input_size:
            raise ValueError(f"{self!r} expects input of shape (batch, time, {self.input_size}), "
                             f"got {input_shape}")
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.hidden_size)
        return (input_shape[0], self.hidden_size)

    def release(self, *arrays: Array) -> None:
        """Give work arrays back to ``self.scratch`` for the next call (a call takes each one
        out while it uses it, so two calls in flight never share one; none may reach the caller)."""
        for array in arrays:
            self.scratch.give(array)

    def time_major(self, sequences: Array) -> Array:
        """``(B, T, ...)`` copied into a ``(T, B, ...)`` work array: each step one contiguous
        block of memory, which the per-step operations of the time loop read and write fastest."""
        steps = self.scratch.take((sequences.shape[1], sequences.shape[0], *sequences.shape[2:]),
                                  self.weight_hh_l0.data.dtype)
        np.copyto(steps, sequences.swapaxes(0, 1))
        return steps

    @staticmethod
    def batch_major(steps: Array) -> Array:
        """``(T, B, ...)`` as a new contiguous ``(B, T, ...)`` array, the layout users see."""
        return np.ascontiguousarray(steps.swapaxes(0, 1))

    def sequence_grad(self, grad_y: Array, batch: int, steps: int) -> Array:
        """``dL/dh`` for every step as a time-major ``(T, B, H)`` array of the weights' dtype:
        ``grad_y`` itself, or zeros but the last step when only the last state was returned."""
        dtype = self.weight_hh_l0.data.dtype
        if self.return_sequences:
            return self.time_major(grad_y)
        full = self.scratch.take((steps, batch, self.hidden_size), dtype)
        full[:-1] = 0
        full[-1] = grad_y
        return full

    def get_config(self) -> dict[str, Any]:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "bias": self.bias,
                "return_sequences": self.return_sequences, "dtype": self.weight_ih_l0.dtype.name}

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if not self.return_sequences:
            text += ", return_sequences=False"
        if self.weight_ih_l0.dtype != np.float64:
            text += f", dtype={self.weight_ih_l0.dtype}"
        return text
