"""The article's data pipeline, on scikit-learn's bundled iris (no download)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["Split", "article_iris"]


class Split(NamedTuple):
    """Train/test arrays; ``y_*`` are integer labels."""

    x_train: NDArray[Any]
    x_test: NDArray[Any]
    y_train: NDArray[Any]
    y_test: NDArray[Any]


def article_iris(dtype: Any = np.float64) -> Split:
    """Iris as the article prepares it: rows scaled to unit L2 norm, then
    ``train_test_split(test_size=0.33, shuffle=True, random_state=42)``:
    100 train and 50 test rows, 4 features, 3 classes."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import normalize

    iris = load_iris()
    x = normalize(iris.data).astype(dtype)
    x_train, x_test, y_train, y_test = train_test_split(
        x, iris.target, test_size=0.33, shuffle=True, random_state=42)
    return Split(x_train, x_test, y_train, y_test)
