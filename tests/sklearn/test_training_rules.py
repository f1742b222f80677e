"""The estimators' L2 step: alpha over each batch's size, added in place, with the real batch sizes."""

import numpy as np
import pytest
from helpers.runs import scaled_iris

import tinynet as tn


@pytest.fixture(scope="module")
def iris():
    return scaled_iris()


def test_l2_step_adds_alpha_over_each_batch_size_in_place():
    from tinynet.sklearn._training_rules import L2Step

    w = tn.Parameter(np.full((2, 2), 2.0, dtype=np.float32), "weight")
    grad = w.grad
    seen = []

    class Record:
        lr = 0.1

        def step(self):
            seen.append(w.grad.copy())

    step = L2Step.cycling(Record(), [w], 1.0, [4, 4, 2])
    for _ in range(4):
        w.grad[...] = 1
        step.step()
    assert w.grad is grad and w.grad.dtype == np.float32
    # alpha / n * W per batch of n rows: 2/4, 2/4, 2/2, then the next epoch's first batch
    assert [float(g[0, 0]) for g in seen] == [1.5, 1.5, 2.0, 1.5]


def test_estimator_gives_the_l2_step_the_real_batch_sizes(iris, monkeypatch):
    from tinynet.sklearn import TinyNetClassifier
    from tinynet.sklearn import _estimator as _estimator_base

    made = []

    class Spy(_estimator_base.L2Step):
        @classmethod
        def cycling(cls, inner, weights, alpha, batch_sizes):
            made.append((alpha, list(batch_sizes), len(weights)))
            return super().cycling(inner, weights, alpha, batch_sizes)

    monkeypatch.setattr(_estimator_base, "L2Step", Spy)
    x, y = iris
    TinyNetClassifier((8,), alpha=0.3, batch_size=64, epochs=1, random_state=0).fit(x, y)
    assert made == [(0.3, [64, 64, 22], 2)]  # 150 rows; the weights of both Dense layers
