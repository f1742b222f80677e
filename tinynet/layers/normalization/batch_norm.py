"""Batch normalization over the batch axis, with running statistics for inference."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int, check_number
from tinynet.engine.contraction import einsum
from tinynet.layers.base import Array, Layer
from tinynet.layers.input_checks import checked_rows
from tinynet.layers.parameter import Parameter

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy 2015) with PyTorch's ``BatchNorm1d`` semantics.

    Shape: ``(B, features) -> (B, features)``.

    Training (statistics of the batch; ``B > 1``), per feature ``f``::

        mean[f] = 1/B sum_B x[B,f]                        BATCH_SUM  "Bf->f"
        var[f]  = 1/B sum_B (x - mean)[B,f]^2             BATCH_DOT  "Bf,Bf->f"
        xhat    = (x - mean) / sqrt(var + eps)
        y       = weight * xhat + bias
        running_mean = (1 - momentum) running_mean + momentum mean
        running_var  = (1 - momentum) running_var  + momentum var B / (B - 1)   (unbiased)

    Inference (``training=False``) uses ``running_mean``/``running_var`` instead
    (they start at 0 and 1). Backward, with ``g = dL/dy`` and ``s = 1/sqrt(var + eps)``::

        dbias[f]   = sum_B g[B,f]                         BATCH_SUM  "Bf->f"
        dweight[f] = sum_B g[B,f] xhat[B,f]               BATCH_DOT  "Bf,Bf->f"
        dx = weight s / B (B g - dbias - xhat dweight)    (training: mean and var depend on x)
        dx = weight s g                                   (inference: they are constants)

    ``weight`` (gamma) starts at ones, ``bias`` (beta) at zeros. The running
    statistics are not trained; :meth:`own_buffers` declares them (saved with the weights).
    """

    BATCH_SUM = "Bf->f"
    BATCH_DOT = "Bf,Bf->f"

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
        self._xhat: Array | None = None
        self._inv_std: Array | None = None
        self._training = True

    @property
    def in_features(self) -> int:
        """The feature count it expects (lets ``Sequential`` check the chain)."""
        return self.features

    def forward(self, x: Array, training: bool = True) -> Array:
        dt = self.weight.data.dtype
        if type(x) is not np.ndarray or x.ndim != 2 or x.shape[1] != self.features or x.dtype != dt:
            x = checked_rows(x, f"BatchNorm(features={self.features})", self.features, dt,
                             lambda width: f"BatchNorm({width})")
        if training:
            centered, var = self._centered_batch(x)
        else:
            centered, var = x - self.running_mean, self.running_var
        self._inv_std = 1 / np.sqrt(var + dt.type(self.eps))
        centered *= self._inv_std  # in place: x - mean is needed once, as xhat
        self._xhat = centered
        self._training = training
        y = centered * self.weight.data
        y += self.bias.data
        return y

    def _centered_batch(self, x: Array) -> tuple[Array, Array]:
        """``(x - mean, var)`` of the batch; updates the running statistics."""
        batch = x.shape[0]
        if batch < 2:
            raise ValueError(f"BatchNorm needs more than 1 sample per batch in training to "
                             f"estimate a variance, got input of shape {x.shape}; use a larger "
                             f"batch_size, or DataLoader(last_batch='drop') so no 1-row batch remains")
        dt = x.dtype.type
        mean = einsum(self.BATCH_SUM, x) / dt(batch)
        centered = x - mean
        var = einsum(self.BATCH_DOT, centered, centered) / dt(batch)
        m = dt(self.momentum)
        self.running_mean *= 1 - m
        self.running_mean += m * mean
        self.running_var *= 1 - m
        self.running_var += m * var * dt(batch / (batch - 1))
        return centered, var

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        if self._xhat is None or self._inv_std is None:
            raise RuntimeError("BatchNorm.backward called before forward")
        xhat = self._xhat
        # Written into the existing .grad buffers: they keep the parameter's dtype.
        einsum(self.BATCH_SUM, grad_y, out=self.bias.grad)
        einsum(self.BATCH_DOT, grad_y, xhat, out=self.weight.grad)
        if not need_input_grad:
            return None
        scale = self.weight.data * self._inv_std
        if not self._training:
            return grad_y * scale
        batch = xhat.dtype.type(xhat.shape[0])
        return (scale / batch) * (batch * grad_y - self.bias.grad - xhat * self.weight.grad)

    def own_buffers(self) -> list[tuple[str, Array]]:
        """The non-trained state (running statistics), updated in place."""
        return [("running_mean", self.running_mean), ("running_var", self.running_var)]

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if len(input_shape) != 2 or input_shape[1] != self.features:
            raise ValueError(f"{self!r} expects input of shape (batch, {self.features}), "
                             f"got {input_shape}")
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {"features": self.features, "momentum": self.momentum, "eps": self.eps,
                "dtype": self.weight.dtype.name}

    def extra_repr(self) -> str:
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return f"features={self.features}, momentum={self.momentum}, eps={self.eps}{dtype}"
