"""TinyNetClassifier against scikit-learn's MLPClassifier, both with their defaults and one
32-unit hidden layer, after StandardScaler: 5-fold cross-validated accuracy on wine,
breast cancer and digits, for several seeds (tests/sklearn/test_estimators.py runs seed 0).

    .venv/bin/python benchmarks/sklearn_vs_mlp.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tinynet.sklearn import TinyNetClassifier

DATASETS = {"wine": load_wine, "breast_cancer": load_breast_cancer, "digits": load_digits}


def cv_accuracy(estimator: object, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean 5-fold accuracy and the seconds it took."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        score = cross_val_score(make_pipeline(StandardScaler(), estimator), x, y, cv=5).mean()
    return float(score), time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="random_state 0 .. seeds-1")
    args = parser.parse_args(argv)
    table = Table(title="5-fold CV accuracy, hidden_layer_sizes=(32,), defaults otherwise")
    for column in ("data", "seed", "MLPClassifier", "TinyNetClassifier", "difference", "seconds (mlp/tn)"):
        table.add_column(column, justify="right")
    for name, load in DATASETS.items():
        x, y = load(return_X_y=True)
        diffs, mlps, ours_all = [], [], []
        for seed in range(args.seeds):
            mlp, t_mlp = cv_accuracy(MLPClassifier(hidden_layer_sizes=(32,), random_state=seed), x, y)
            ours, t_ours = cv_accuracy(TinyNetClassifier(hidden_layer_sizes=(32,), random_state=seed), x, y)
            diffs.append(ours - mlp)
            mlps.append(mlp)
            ours_all.append(ours)
            table.add_row(name, str(seed), f"{mlp:.4f}", f"{ours:.4f}", f"{ours - mlp:+.4f}",
                          f"{t_mlp:.1f} / {t_ours:.1f}")
        table.add_row(name, "mean", f"{np.mean(mlps):.4f}", f"{np.mean(ours_all):.4f}",
                      f"{np.mean(diffs):+.4f}", f"worst {min(diffs):+.4f}", end_section=True)
    Console().print(table)


if __name__ == "__main__":
    main()
