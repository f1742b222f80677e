"""Batch normalization per feature (channel), with running statistics for inference."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int, check_number
from tinynet.engine.contraction import einsum
from tinynet.layers.base import Array, Layer
from tinynet.layers.input_checks import checked_features
from tinynet.layers.parameter import Parameter

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy 2015) with PyTorch's ``BatchNorm1d``/``2d`` semantics.

    Shape: ``(B, C) -> (B, C)`` or ``(B, C, ...) -> (B, C, ...)``: one mean and
    variance per feature (channel) ``C``, axis 1, taken over the batch and every
    position (``n`` values: ``B`` times the positions).

    Training (statistics of the batch; ``n > 1``), per feature ``f``::

        mean[f] = 1/n sum_{B,...} x[B,f,...]                  BATCH_SUM  "Bf...->f"
        var[f]  = 1/n sum_{B,...} (x - mean)[B,f,...]^2       BATCH_DOT  "Bf...,Bf...->f"
        xhat    = (x - mean) / sqrt(var + eps)
        y       = weight * xhat + bias
        running_mean = (1 - momentum) running_mean + momentum mean
        running_var  = (1 - momentum) running_var  + momentum var n / (n - 1)   (unbiased)

    Inference (``training=False``) uses ``running_mean``/``running_var`` instead
    (they start at 0 and 1). Backward, with ``g = dL/dy`` and ``s = 1/sqrt(var + eps)``::

        dbias[f]   += sum_{B,...} g[B,f,...]                  BATCH_SUM  "Bf...->f"
        dweight[f] += sum_{B,...} g[B,f,...] xhat[B,f,...]    BATCH_DOT  "Bf...,Bf...->f"
        dx = weight s / n (n g - sum g - xhat sum g xhat)     (training: mean and var depend on x)
        dx = weight s g                                       (inference: they are constants)

    ``weight`` (gamma) starts at ones, ``bias`` (beta) at zeros. The running
    statistics are not trained; :meth:`own_buffers` declares them (saved with the weights).
    ``state_dict()`` has PyTorch's keys but ``num_batches_tracked``, which this layer
    does not keep (``load_state_dict`` skips it; PyTorch fills it in for a state dict
    without it, even with ``strict=True``).
    """

    BATCH_SUM = "Bf...->f"
    BATCH_DOT = "Bf...,Bf...->f"

    ignored_state_keys = ("num_batches_tracked",)  # PyTorch's count of training batches: it only
    # matters for momentum=None (a cumulative average), which BatchNorm does not offer

    def __init__(self, features: int, momentum: float = 0.1, eps: float = 1e-5,
                 dtype: DTypeLike = np.float64) -> None:
        self.features = check_int(features, "BatchNorm features", minimum=1)
        self.momentum = check_number(momentum, "BatchNorm momentum", low=0, high=1)
        self.eps = check_number(eps, "BatchNorm eps", low=0, low_open=True)
        dt = check_float_dtype(dtype, "BatchNorm dtype")
        self.weight = Parameter(np.ones(self.features, dtype=dt), "weight")
        self.bias = Parameter(np.zeros(self.features, dtype=dt), "bias")
        self.running_mean = np.zeros(self.features, dtype=dt)
        self.running_var = np.ones(self.features, dtype=dt)

    @property
    def in_features(self) -> int:
        """The feature count it expects (lets ``Sequential`` check the chain)."""
        return self.features

    def forward(self, x: Array, training: bool = True) -> Array:
        dt = self.weight.data.dtype
        if type(x) is not np.ndarray or x.ndim < 2 or x.shape[1] != self.features or x.dtype != dt:
            x = self._checked_input(x)
        per_feature = (self.features,) + (1,) * (x.ndim - 2)  # broadcasts along axis 1
        if training:
            centered, var = self._centered_batch(x, per_feature)
        else:
            centered, var = x - self.running_mean.reshape(per_feature), self.running_var
        inv_std = (1 / np.sqrt(var + dt.type(self.eps))).reshape(per_feature)
        centered *= inv_std  # in place: x - mean is needed once, as xhat
        if training:
            self.save_for_backward(centered, inv_std)
        y = centered * self.weight.data.reshape(per_feature)
        y += self.bias.data.reshape(per_feature)
        return y

    def _centered_batch(self, x: Array, per_feature: tuple[int, ...]) -> tuple[Array, Array]:
        """``(x - mean, var)`` of the batch; updates the running statistics."""
        n = x.size // self.features
        if n < 2:
            raise ValueError(f"BatchNorm needs more than 1 value per feature in training to "
                             f"estimate a variance, got input of shape {x.shape}; use a larger "
                             f"batch_size, or DataLoader(last_batch='drop') so no 1-row batch remains")
        dt = x.dtype.type
        mean = einsum(self.BATCH_SUM, x) / dt(n)
        centered = x - mean.reshape(per_feature)
        var = einsum(self.BATCH_DOT, centered, centered) / dt(n)
        m = dt(self.momentum)
        self.running_mean *= 1 - m
        self.running_mean += m * mean
        self.running_var *= 1 - m
        self.running_var += m * var * dt(n / (n - 1))
        return centered, var

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        xhat, inv_std = self.saved_for_backward()
        grad_bias = einsum(self.BATCH_SUM, grad_y)
        grad_weight = einsum(self.BATCH_DOT, grad_y, xhat)
        self.bias.add_grad(grad_bias)
        self.weight.add_grad(grad_weight)
        if not need_input_grad:
            return None
        per_feature = inv_std.shape
        scale = self.weight.data.reshape(per_feature) * inv_std
        n = xhat.dtype.type(xhat.size // self.features)
        return (scale / n) * (n * grad_y - grad_bias.reshape(per_feature)
                              - xhat * grad_weight.reshape(per_feature))

    def own_buffers(self) -> list[tuple[str, Array]]:
        """The non-trained state (running statistics), updated in place."""
        return [("running_mean", self.running_mean), ("running_var", self.running_var)]

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if len(input_shape) < 2 or input_shape[1] != self.features:
            raise ValueError(f"{self!r} expects input of shape (batch, {self.features}, ...), "
                             f"got {input_shape}")
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {"features": self.features, "momentum": self.momentum, "eps": self.eps,
                "dtype": self.weight.dtype.name}

    def extra_repr(self) -> str:
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return f"features={self.features}, momentum={self.momentum}, eps={self.eps}{dtype}"

    def _checked_input(self, x: Any) -> Array:
        """The slow path of ``forward``: convert, cast to the weight's dtype, or explain."""
        return checked_features(x, f"BatchNorm(features={self.features})", self.features,
                                self.weight.data.dtype, lambda width: f"BatchNorm({width})", axis=1)
