"""A direct numpy transcription of the article's network (ARTICLE.md), independent of
tinynet: the yardstick that tinynet's configuration must reproduce number for number."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray


def train_article(x: NDArray[Any], target_onehot: NDArray[Any], batch_size: int | None,
                  epochs: int, lr: float = 0.01, seed: int = 42) -> tuple[list[float], list[NDArray[Any]]]:
    """Return the per-epoch *summed* batch cost and the final [W0, b0, W1, b1]."""
    rng = np.random.default_rng(seed=42 if seed is None else seed)
    w0, b0 = rng.random((10, 4)), rng.random((10,))
    w1, b1 = rng.random((3, 10)), rng.random((3,))
    m = x.shape[0]
    bs = m if batch_size is None else batch_size
    n_batches = m // bs
    xb = as_strided(x, shape=(n_batches, bs, x.shape[1]), strides=(x.strides[0] * bs, *x.strides))
    tb = as_strided(target_onehot, shape=(n_batches, bs, target_onehot.shape[1]),
                    strides=(target_onehot.strides[0] * bs, *target_onehot.strides))
    costs = []
    for _ in range(epochs):
        epoch_cost = 0.0
        for xi, ti in zip(xb, tb):
            h0 = np.einsum("hi,Bi->Bh", w0, xi) + b0
            h0a = np.where(h0 > 0, h0, 0.01 * h0)
            h1 = np.einsum("hi,Bi->Bh", w1, h0a) + b1
            e = np.exp(h1 - h1.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            epoch_cost += -np.einsum("Bi,Bi", ti, np.log(p)) / bs
            d = p - ti
            dw1 = np.einsum("Bi,Bj->ij", d, h0a) / bs
            db1 = d.sum(axis=0) / bs
            dh = np.einsum("Bi,ij->Bj", d, w1)
            d0 = dh * np.where(h0 > 0, 1.0, 0.01)
            dw0 = np.einsum("Bi,Bj->ij", d0, xi) / bs
            db0 = d0.sum(axis=0) / bs
            w1 -= lr * dw1
            b1 -= lr * db1
            w0 -= lr * dw0
            b0 -= lr * db0
        costs.append(float(epoch_cost))
    return costs, [w0, b0, w1, b1]
