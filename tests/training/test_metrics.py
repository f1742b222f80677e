"""The metrics return batch sums; accuracy on one output is binary accuracy."""

import numpy as np
import pytest

from tinynet.training import metrics


def test_metrics_return_batch_sums():
    logits = np.array([[2.0], [-1.0], [0.5], [-3.0]])
    target = np.array([1, 1, 0, 0])
    assert metrics.binary_accuracy(logits, target) == 2.0
    assert metrics.accuracy(logits.ravel(), target.reshape(-1, 1)) == 2.0
    assert metrics.mean_squared_error(logits, target) == pytest.approx(((logits.ravel() - target) ** 2).sum())
    out, y = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[0.0, 2.0], [3.0, 1.0]])
    assert metrics.mean_squared_error(out, y) == pytest.approx((1 + 16) / 2)
    assert metrics.mean_absolute_error(out, y) == pytest.approx((1 + 4) / 2)
    assert {"accuracy", "binary_accuracy", "mse", "mae"} <= set(metrics.METRICS)


def test_accuracy_binary_branch_is_binary_accuracy():
    out, target = np.array([[0.3], [-2.0], [0.0], [5.0]]), np.array([[1.0], [1.0], [0.0], [0.0]])
    assert metrics.accuracy(out, target) == metrics.binary_accuracy(out, target) == 2.0
    assert metrics.accuracy(out.ravel(), target.ravel()) == 2.0


def test_metric_docstrings_have_a_shape_line():
    documented = [metrics.accuracy, metrics.binary_accuracy, metrics.mean_squared_error,
                  metrics.mean_absolute_error]
    missing = [obj.__name__ for obj in documented if "Shape:" not in (obj.__doc__ or "")]
    assert not missing
