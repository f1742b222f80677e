"""Small models the tests build again and again."""

from __future__ import annotations

import numpy as np

import tinynet as tn


def article_model(dtype: type = np.float64) -> tn.Sequential:
    """The article's network 4-10-3 with LeakyReLU(0.01), weights drawn uniformly from seed 42."""
    rng = np.random.default_rng(42)
    return tn.Sequential(tn.Dense(4, 10, init="uniform", rng=rng, dtype=dtype), tn.LeakyReLU(0.01),
                         tn.Dense(10, 3, init="uniform", rng=rng, dtype=dtype))


def small_mlp(n_in: int, n_hidden: int, n_out: int, seed: int) -> tn.Sequential:
    """Dense -> Tanh -> Dense."""
    return tn.Sequential(tn.Dense(n_in, n_hidden, rng=seed), tn.Tanh(),
                         tn.Dense(n_hidden, n_out, rng=seed + 1))


class Counted(tn.Layer):
    """A user's layer that declares a buffer through the own_buffers hook."""

    def __init__(self, features: int) -> None:
        self.features = features
        self.seen = np.zeros(features)

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        if training:
            self.seen += 1
        return x

    def backward(self, grad_y: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return grad_y

    def own_buffers(self) -> list[tuple[str, np.ndarray]]:
        return [("seen", self.seen)]


def model_with_buffers() -> tn.Sequential:
    """Buffers at several depths: two BatchNorms and a Counted inside a Residual."""
    return tn.Sequential(tn.Dense(3, 4, rng=0), tn.BatchNorm(4),
                         tn.Residual(tn.Sequential(Counted(4), tn.BatchNorm(4))), tn.Dense(4, 2, rng=1))
