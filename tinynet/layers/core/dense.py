"""Dense (fully connected) layer: ``y = x W^T + b``, written in einsum."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int
from tinynet.engine.contraction import Plans
from tinynet.layers.base import Array, Layer
from tinynet.layers.initializers import Initializer, RngLike, as_generator, init_config, init_weight_and_bias
from tinynet.layers.input_checks import checked_features
from tinynet.layers.parameter import Parameter

__all__ = ["Dense"]


class Dense(Layer):
    """Fully connected layer with weight ``(out, in)`` and bias ``(out,)``.

    Shape: ``(B, ..., in) -> (B, ..., out)``: it acts on the last axis.

    Math (``...`` = the leading axes, e.g. B or B, T; i = in, o = out), with ``g = dL/dy``::

        y[...,o]   = sum_i x[...,i] W[o,i] + b[o]     FORWARD      "...i,oi->...o"
        dW[o,i]   += sum_... g[...,o] x[...,i]        GRAD_WEIGHT  "...o,...i->oi"
        db[o]     += sum_... g[...,o]                 GRAD_BIAS    "...o->o"
        dx[...,i]  = sum_o g[...,o] W[o,i]            GRAD_INPUT   "...o,oi->...i"

    Each is one BLAS call: the leading axes are one matrix dimension, and
    ``self.plans`` keeps each spec's plan for the shapes of the last step.

    ``init`` names the weight initialiser (default ``"he_normal"``, bias zeros).
    ``init="uniform"`` is the article's scheme: weight then bias drawn with
    ``rng.random``, so one Generator shared by the layers reproduces its numbers.
    """

    FORWARD = "...i,oi->...o"
    GRAD_WEIGHT = "...o,...i->oi"
    GRAD_BIAS = "...o->o"
    GRAD_INPUT = "...o,oi->...i"

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
            init, as_generator(rng, "Dense rng", weights_only=True), (self.out_features, self.in_features),
            (self.out_features,) if bias else None, self.in_features, self.out_features,
            check_float_dtype(dtype, "Dense dtype"), "Dense")
        self.weight = Parameter(weight, "weight")
        self.bias = None if bias_data is None else Parameter(bias_data, "bias")
        self.plans = Plans()

    def forward(self, x: Array, training: bool = True) -> Array:
        w = self.weight.data
        if type(x) is not np.ndarray or x.ndim < 2 or x.shape[-1] != self.in_features \
                or x.dtype != w.dtype:
            x = self._checked_input(x)
        if training:
            self.save_for_backward(x)
        y = self.plans[self.FORWARD](x, w)
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        (x,) = self.saved_for_backward()
        self.weight.accumulate(self.GRAD_WEIGHT, grad_y, x)
        if self.bias is not None:
            self.bias.accumulate(self.GRAD_BIAS, grad_y)
        return self.plans[self.GRAD_INPUT](grad_y, self.weight.data) if need_input_grad else None

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if len(input_shape) < 2 or input_shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} expects input of shape (batch, {self.in_features}) or (batch, ..., "
                f"{self.in_features}), got {input_shape}"
            )
        return (*input_shape[:-1], self.out_features)

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "dtype": self.weight.dtype.name, **init_config(self.init)}

    def extra_repr(self) -> str:
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}{dtype}")

    def _checked_input(self, x: Any) -> Array:
        """The slow path of ``forward``: convert, cast to the weight's dtype, or explain."""
        return checked_features(x, f"Dense(in_features={self.in_features}, out_features={self.out_features})",
                            self.in_features, self.weight.data.dtype,
                            lambda width: f"Dense({width}, {self.out_features})")
