"""Normalization over the last axis of each position: `LayerNorm` and `RMSNorm`."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int, check_number
from tinynet.engine.contraction import Plans
from tinynet.layers.base import Array, Layer
from tinynet.layers.input_checks import checked_features
from tinynet.layers.parameter import Parameter

__all__ = ["LayerNorm", "RMSNorm"]


def _features(normalized_shape: Any, layer: str) -> int:
    """The size of the last axis from an int or a one-element tuple (PyTorch takes both)."""
    if isinstance(normalized_shape, (tuple, list)):
        if len(normalized_shape) != 1:
            raise ValueError(f"{layer} normalizes the last axis only: normalized_shape must be an int "
                             f"or a one-element tuple, got {tuple(normalized_shape)}")
        normalized_shape = normalized_shape[0]
    return check_int(normalized_shape, f"{layer} normalized_shape", minimum=1)


class _LastAxisNorm(Layer):
    """What both norms share: the input check, the per-feature weight, shapes and configs."""

    features: int
    eps: float | None
    weight: Parameter
    FEATURE_SUM = "...d->d"
    FEATURE_DOT = "...d,...d->d"

    def _checked(self, x: Any) -> Array:
        dt = self.weight.data.dtype
        if type(x) is np.ndarray and x.ndim >= 2 and x.shape[-1] == self.features and x.dtype == dt:
            return x
        name = type(self).__name__
        return checked_features(x, f"{name}({self.features})", self.features, dt,
                                lambda width: f"{name}({width})")

    @property
    def in_features(self) -> int:
        """The feature count it expects (lets ``Sequential`` check the chain)."""
        return self.features

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if len(input_shape) < 2 or input_shape[-1] != self.features:
            raise ValueError(f"{self!r} expects input of shape (batch, {self.features}) or "
                             f"(batch, ..., {self.features}), got {input_shape}")
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {"normalized_shape": self.features, "eps": self.eps, "dtype": self.weight.dtype.name}

    def extra_repr(self) -> str:
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return f"{self.features}, eps={self.eps}{dtype}"


class LayerNorm(_LastAxisNorm):
    """Layer normalization (Ba et al. 2016) over the last axis, as PyTorch's ``nn.LayerNorm(D)``.

    Shape: ``(B, ..., D) -> (B, ..., D)``: each position's ``D`` features get their own
    mean and variance (no batch statistics, so training and inference agree).

    Math (``...`` = the leading axes, ``d`` = feature), with ``g = dL/dy``::

        mean[...]  = 1/D sum_d x[...,d]                          ROW_SUM      "...d->..."
        var[...]   = 1/D sum_d (x - mean)[...,d]^2               ROW_DOT      "...d,...d->..."
        s = 1 / sqrt(var + eps),   xhat = (x - mean) s,   y = weight xhat + bias
        dbias[d]   += sum_... g[...,d]                           FEATURE_SUM  "...d->d"
        dweight[d] += sum_... g[...,d] xhat[...,d]               FEATURE_DOT  "...d,...d->d"
        gx = g weight
        dx = s (gx - 1/D sum_d gx - xhat 1/D sum_d gx xhat)      ROW_SUM, ROW_DOT

    ``weight`` starts at ones, ``bias`` at zeros (PyTorch's names and init).
    """

    ROW_SUM = "...d->..."
    ROW_DOT = "...d,...d->..."

    def __init__(self, normalized_shape: int | tuple[int], eps: float = 1e-5,
                 dtype: DTypeLike = np.float64) -> None:
        self.features = _features(normalized_shape, "LayerNorm")
        self.normalized_shape = self.features
        self.eps = check_number(eps, "LayerNorm eps", low=0, low_open=True)
        dt = check_float_dtype(dtype, "LayerNorm dtype")
        self.weight = Parameter(np.ones(self.features, dtype=dt), "weight")
        self.bias = Parameter(np.zeros(self.features, dtype=dt), "bias")
        self.plans = Plans()

    def forward(self, x: Array, training: bool = True) -> Array:
        x = self._checked(x)
        n = x.dtype.type(self.features)
        centered = x - (self.plans[self.ROW_SUM](x) / n)[..., None]
        var = self.plans[self.ROW_DOT](centered, centered) / n
        inv_std = (1 / np.sqrt(var + x.dtype.type(self.eps)))[..., None]
        centered *= inv_std  # xhat, in place
        if training:
            self.save_for_backward(centered, inv_std)
        y = centered * self.weight.data
        y += self.bias.data
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        xhat, inv_std = self.saved_for_backward()
        self.bias.accumulate(self.FEATURE_SUM, grad_y)
        self.weight.accumulate(self.FEATURE_DOT, grad_y, xhat)
        if not need_input_grad:
            return None
        n = xhat.dtype.type(self.features)
        gx = grad_y * self.weight.data
        mean_gx = self.plans[self.ROW_SUM](gx) / n
        mean_gx_xhat = self.plans[self.ROW_DOT](gx, xhat) / n
        gx -= mean_gx[..., None]
        gx -= xhat * mean_gx_xhat[..., None]
        gx *= inv_std
        return gx


class RMSNorm(_LastAxisNorm):
    """Root-mean-square normalization (Zhang & Sennrich 2019) over the last axis, as
    PyTorch's ``nn.RMSNorm(D)``: LayerNorm without the centring and the bias.

    Shape: ``(B, ..., D) -> (B, ..., D)``.

    Math, with ``g = dL/dy``::

        ms[...]    = 1/D sum_d x[...,d]^2                   ROW_DOT      "...d,...d->..."
        r = 1 / sqrt(ms + eps),   xhat = x r,   y = weight xhat
        dweight[d] += sum_... g[...,d] xhat[...,d]          FEATURE_DOT  "...d,...d->d"
        gx = g weight
        dx = r (gx - xhat 1/D sum_d gx xhat)                ROW_DOT

    ``eps=None`` is PyTorch's default: the machine epsilon of the dtype
    (``np.finfo(dtype).eps``). ``weight`` starts at ones.
    """

    ROW_DOT = "...d,...d->..."

    def __init__(self, normalized_shape: int | tuple[int], eps: float | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        self.features = _features(normalized_shape, "RMSNorm")
        self.normalized_shape = self.features
        dt = check_float_dtype(dtype, "RMSNorm dtype")
        self.eps = None if eps is None else check_number(eps, "RMSNorm eps", low=0, low_open=True)
        self.weight = Parameter(np.ones(self.features, dtype=dt), "weight")
        self.plans = Plans()

    def forward(self, x: Array, training: bool = True) -> Array:
        x = self._checked(x)
        eps = np.finfo(x.dtype).eps if self.eps is None else x.dtype.type(self.eps)
        mean_square = self.plans[self.ROW_DOT](x, x) / x.dtype.type(self.features)
        inv_rms = (1 / np.sqrt(mean_square + eps))[..., None]
        xhat = x * inv_rms
        if training:
            self.save_for_backward(xhat, inv_rms)
        return xhat * self.weight.data

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        xhat, inv_rms = self.saved_for_backward()
        self.weight.accumulate(self.FEATURE_DOT, grad_y, xhat)
        if not need_input_grad:
            return None
        gx = grad_y * self.weight.data
        mean_gx_xhat = self.plans[self.ROW_DOT](gx, xhat) / xhat.dtype.type(self.features)
        gx -= xhat * mean_gx_xhat[..., None]
        gx *= inv_rms
        return gx
