"""What `tinynet train` says after training: the metrics of each split beside a baseline
(the majority class, or the training mean for regression), and a warning when the model
does not beat that baseline, with the likely reason and what to change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.table import Table as RichTable

import tinynet as tn
from tinynet.cli.reports import classification_scores, regression_scores
from tinynet.display.numbers import format_metric
from tinynet.engine.types import Array

__all__ = ["Outcome", "split_metrics", "baseline_metrics", "results_table", "failure_warning"]


def split_metrics(model: Any, loss: Any, x: Array, y: Array, labels: list[str] | None) -> dict[str, float]:
    """One split's rows, loss and, for classes, accuracy and balanced accuracy; for numbers
    (``y`` in its own units, as the model predicts) R², MAE and RMSE."""
    result = {"rows": float(len(x)), **tn.evaluate(model, loss, x, y)}
    output = model(x).reshape(len(x), -1)
    if loss.task == "regression":
        result.update(regression_scores(y, output[:, 0])["metrics"])
    else:
        codes = output.argmax(axis=1) if output.shape[1] > 1 else (output[:, 0] > 0).astype(np.intp)
        result["balanced_accuracy"] = _balanced_accuracy(y, codes, labels)
    return result


def baseline_metrics(y_train: Array, y: Array, task: str,
                     labels: list[str] | None = None) -> tuple[str, dict[str, float]]:
    """The row name and metrics on ``y`` of the model that ignores the features: the training
    rows' majority class, or their mean."""
    if task == "regression":
        mean = np.full(len(y), float(np.mean(y_train)))
        return "mean baseline", {"rows": float(len(y)), **regression_scores(y, mean)["metrics"]}
    majority = int(np.bincount(np.asarray(y_train)).argmax())
    predicted = np.full(len(y), majority)
    return "majority baseline", {"rows": float(len(y)), "accuracy": float(np.mean(y == majority)),
                                   "balanced_accuracy": _balanced_accuracy(y, predicted, labels)}


def _balanced_accuracy(y: Array, predicted: Array, labels: list[str] | None) -> float:
    names = labels or [str(k) for k in range(int(max(np.max(y), np.max(predicted))) + 1)]
    return float(classification_scores(y, predicted, names)["metrics"]["balanced_accuracy"])


def results_table(results: dict[str, dict[str, float]], title: str, caption: str | None = None) -> RichTable:
    """One row per split (and the baseline), one column per metric; blank where a row has none."""
    table = RichTable(title=title, caption=caption, header_style="bold")
    keys = list(dict.fromkeys(key for values in results.values() for key in values))
    for key in ["split", *keys]:
        table.add_column(key, justify="left" if key == "split" else "right")
    for name, values in results.items():
        table.add_row(name, *["" if k not in values else f"{int(values[k])}" if k == "rows"
                              else format_metric(values[k]) for k in keys])
    return table


@dataclass
class Outcome:
    """What the warning needs to know about a finished run."""

    task: str
    split: str  # the split compared with the baseline
    score: float  # its accuracy, or R²
    baseline: float  # the baseline's accuracy, or R²
    losses: list[float]  # the training loss of every epoch
    stopped_early: bool
    standardized: bool
    class_weighted: bool
    majority_share: float | None  # the largest class's share of the training rows
    lr: float


def failure_warning(outcome: Outcome) -> str | None:
    """``None`` if the model beats the baseline; else one line saying so, why and what to try."""
    if outcome.score > outcome.baseline + 1e-12:
        return None
    metric = "accuracy" if outcome.task == "classification" else "R²"
    against = "the majority class's" if outcome.task == "classification" else "the training mean's"
    reasons = []
    losses = outcome.losses
    if not outcome.standardized:
        reasons.append("the inputs are not standardized (add --standardize)")
    still_falling = len(losses) >= 2 and losses[-1] < 0.99 * losses[max(0, len(losses) - 10)]
    if still_falling and not outcome.stopped_early:
        reasons.append("the loss was still falling when the epochs ran out (raise --epochs)")
    elif losses and losses[-1] > 0.95 * losses[0]:
        reasons.append(f"the loss barely fell (from {format_metric(losses[0])} to "
                       f"{format_metric(losses[-1])}; try a larger --lr than {outcome.lr:g})")
    share = outcome.majority_share
    if share is not None and share >= 0.5 and not outcome.class_weighted:
        reasons.append(f"the classes are imbalanced ({share:.0%} of the rows are one class; try "
                       f"--class-weight balanced)")
    if not reasons:
        reasons.append("the features may not tell the target apart")
    return (f"warning: the {outcome.split} {metric} {format_metric(outcome.score)} is no better than "
            f"{against} {format_metric(outcome.baseline)}: " + "; ".join(reasons))
