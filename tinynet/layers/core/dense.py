"""Dense (fully connected) layer: ``y = x W^T + b``, written in einsum."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int
from tinynet.engine.contraction import einsum
from tinynet.layers.base import Array, Layer
from tinynet.layers.initializers import Initializer, RngLike, as_generator, init_config, init_weight_and_bias
from tinynet.layers.input_checks import checked_rows
from tinynet.layers.parameter import Parameter

__all__ = ["Dense"]


class Dense(Layer):
    """Fully connected layer with weight ``(out, in)`` and bias ``(out,)``.

    Shape: ``(B, in) -> (B, out)``.

    Math (B = batch, i = in, o = out), with ``g = dL/dy``::

        y[B,o]  = sum_i x[B,i] W[o,i] + b[o]      FORWARD      "Bi,oi->Bo"
        dW[o,i] = sum_B g[B,o] x[B,i]             GRAD_WEIGHT  "Bo,Bi->oi"
        db[o]   = sum_B g[B,o]                    GRAD_BIAS    "Bo->o"
        dx[B,i] = sum_o g[B,o] W[o,i]             GRAD_INPUT   "Bo,oi->Bi"

    ``init`` names the weight initialiser (default ``"he_normal"``, bias zeros).
    ``init="uniform"`` is the article's scheme: weight then bias drawn with
    ``rng.random``, so one Generator shared by the layers reproduces its numbers.
    """

    FORWARD = "Bi,oi->Bo"
    GRAD_WEIGHT = "Bo,Bi->oi"
    GRAD_BIAS = "Bo->o"
    GRAD_INPUT = "Bo,oi->Bi"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Initializer = "he_normal",
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.in_features = check_int(in_features, "Dense in_features", minimum=1)
        self.out_features = check_int(out_features, "Dense out_features", minimum=1)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Dense bias must be True or False, got {bias!r}")
        self.init = init
        weight, bias_data = init_weight_and_bias(
            init, as_generator(rng, "Dense rng"), (self.out_features, self.in_features),
            (self.out_features,) if bias else None, self.in_features, self.out_features,
            check_float_dtype(dtype, "Dense dtype"), "Dense")
        self.weight = Parameter(weight, "weight")
        self.bias = None if bias_data is None else Parameter(bias_data, "bias")
        self._x: Array | None = None

    def forward(self, x: Array, training: bool = True) -> Array:
        w = self.weight.data
        if type(x) is not np.ndarray or x.ndim != 2 or x.shape[1] != self.in_features \
                or x.dtype != w.dtype:
            x = self._checked_input(x)
        self._x = x
        y = einsum(self.FORWARD, x, w)
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        if self._x is None:
            raise RuntimeError("Dense.backward called before forward")
        # Written into the existing .grad buffers: no allocation per step.
        einsum(self.GRAD_WEIGHT, grad_y, self._x, out=self.weight.grad)
        if self.bias is not None:
            einsum(self.GRAD_BIAS, grad_y, out=self.bias.grad)
        return einsum(self.GRAD_INPUT, grad_y, self.weight.data) if need_input_grad else None

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if len(input_shape) != 2 or input_shape[1] != self.in_features:
            raise ValueError(
                f"{self!r} expects input of shape (batch, {self.in_features}), got {input_shape}"
            )
        return (input_shape[0], self.out_features)

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "dtype": self.weight.dtype.name, **init_config(self.init)}

    def extra_repr(self) -> str:
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}{dtype}")

    def _checked_input(self, x: Any) -> Array:
        """The slow path of ``forward``: convert, cast to the weight's dtype, or explain."""
        return checked_rows(x, f"Dense(in_features={self.in_features}, out_features={self.out_features})",
                            self.in_features, self.weight.data.dtype,
                            lambda width: f"Dense({width}, {self.out_features})")
