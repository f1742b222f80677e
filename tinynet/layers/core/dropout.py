"""Dropout: zero a random fraction ``p`` of the activations while training."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.checks import check_number
from tinynet.layers.base import Array, Layer
from tinynet.layers.initializers import RngLike, as_generator

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014), as PyTorch's ``nn.Dropout``.

    Shape: any ``(B, ...) -> (B, ...)``.

    While training, each element is kept with probability ``1 - p`` and the kept
    ones are scaled by ``1 / (1 - p)``, so the expected output equals the input
    and inference needs no rescaling. With ``keep`` the 0/1 mask::

        y  = x * keep / (1 - p)
        dx = g * keep / (1 - p)

    ``training=False`` is the identity. The mask is drawn from ``rng`` (a numpy
    Generator or an int seed) on every training forward; :meth:`fix_mask` pins a
    mask instead, so that repeated forwards are deterministic (gradient checks).
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        self.p = check_number(p, "Dropout p", low=0, high=1, high_open=True)
        self.rng = as_generator(rng, "Dropout rng")
        self.fixed_mask: Array | None = None

    def forward(self, x: Array, training: bool = True) -> Array:
        if not training:
            return x
        if self.p == 0:
            self.save_for_backward(None)
            return x
        scaled_mask = self._mask_for(x).astype(x.dtype, copy=False) * x.dtype.type(1 / (1 - self.p))
        self.save_for_backward(scaled_mask)
        return x * scaled_mask

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (scaled_mask,) = self.saved_for_backward()
        return grad_y if scaled_mask is None else grad_y * scaled_mask

    def fix_mask(self, mask: Any) -> None:
        """Use ``mask`` (1 = keep, 0 = drop; the shape of the input) on every training
        forward until ``fix_mask(None)`` returns to random masks."""
        if mask is None:
            self.fixed_mask = None
            return
        array = np.asarray(mask)
        if array.dtype.kind not in "biuf" or not ((array == 0) | (array == 1)).all():
            raise ValueError("Dropout.fix_mask: mask must hold only 0 (drop) and 1 (keep)")
        self.fixed_mask = array.astype(bool)

    def _mask_for(self, x: Array) -> Array:
        if self.fixed_mask is None:
            return self.rng.random(x.shape, dtype=x.dtype) >= x.dtype.type(self.p)
        if self.fixed_mask.shape != x.shape:
            raise ValueError(f"Dropout: the fixed mask has shape {self.fixed_mask.shape} but the "
                             f"input has shape {x.shape}; call fix_mask with a mask of the input's shape")
        return self.fixed_mask

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"
