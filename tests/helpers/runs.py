"""Small training set-ups shared by the training, display and estimator tests."""

from __future__ import annotations

from typing import Any

import numpy as np

import tinynet as tn
from tinynet.data.datasets import article_iris
from tinynet.layers.state import state_arrays


def iris_setup(seed: int = 42, batch_size: int = 32) -> tuple[Any, tn.Sequential, tn.DataLoader]:
    """The article's iris split, a 4-10-3 LeakyReLU network and a shuffling loader."""
    data = article_iris()
    rng = np.random.default_rng(seed)
    model = tn.Sequential(tn.Dense(4, 10, rng=rng), tn.LeakyReLU(0.01), tn.Dense(10, 3, rng=rng))
    loader = tn.DataLoader(data.x_train, data.y_train, batch_size=batch_size, shuffle=True, rng=seed)
    return data, model, loader


def scaled_iris() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's iris, standardized: ``(x, y)`` with integer labels."""
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def small_problem(seed: int = 0, n: int = 120) -> tuple[np.ndarray, np.ndarray, tn.Sequential]:
    """A linearly separable two-class problem in 3 features and a 3-8-2 Tanh network."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    y = (x @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)
    model = tn.Sequential(tn.Dense(3, 8, rng=rng), tn.Tanh(), tn.Dense(8, 2, rng=rng))
    return x, y, model


class EpochSpy(tn.Callback):
    """Records the optimizer's lr at each epoch start, the model state and the logs at each epoch end."""

    def on_train_begin(self, run: Any) -> None:
        self.run = run
        self.lrs: list[float] = []
        self.weights: dict[int, list[np.ndarray]] = {}
        self.logs: dict[int, dict[str, float]] = {}

    def on_epoch_begin(self, epoch: int) -> None:
        self.lrs.append(self.run.optimizer.lr)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.weights[epoch] = [a.copy() for a in state_arrays(self.run.model)]
        self.logs[epoch] = dict(logs)
