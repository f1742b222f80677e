"""What `tinynet evaluate` reports: the loss, the task's scores, and for classification the
per-class precision, recall, F1 and support and the confusion matrix; as one JSON document
(``--json``, schema in ``docs/ecosystem.md``) or as rich tables.

The scores are scikit-learn's (``classification_report``, ``confusion_matrix``,
``r2_score``, ...), imported only when a report is made.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from tinynet.display.numbers import format_loss, format_metric

__all__ = ["classification_scores", "regression_scores", "report_tables", "json_ready", "json_text"]


def classification_scores(codes: Any, predicted: Any, labels: list[str]) -> dict[str, Any]:
    """Scores of predicted class codes ``(N,)`` against true codes ``(N,)``; ``labels[k]`` names
    code ``k``. Every label gets a row and a confusion-matrix line, even one absent from the data."""
    from sklearn.metrics import classification_report, confusion_matrix

    codes, predicted = np.asarray(codes), np.asarray(predicted)
    every = list(range(len(labels)))
    report = classification_report(codes, predicted, labels=every, target_names=labels,
                                   output_dict=True, zero_division=0)
    per_class = [{"label": label, "precision": report[label]["precision"],
                  "recall": report[label]["recall"], "f1": report[label]["f1-score"],
                  "support": int(report[label]["support"])} for label in labels]
    averages = {name: {"precision": report[key]["precision"], "recall": report[key]["recall"],
                       "f1": report[key]["f1-score"]}
                for name, key in (("macro", "macro avg"), ("weighted", "weighted avg"))}
    matrix = confusion_matrix(codes, predicted, labels=every)
    # balanced_accuracy_score's value (the mean recall over the classes present), without its
    # warning about predicted classes absent from the data
    recalls = [row["recall"] for row in per_class if row["support"] > 0]
    return {
        "metrics": {"accuracy": float(np.mean(codes == predicted)),
                    "balanced_accuracy": float(np.mean(recalls)),
                    "macro_f1": averages["macro"]["f1"]},
        "classes": per_class,
        "averages": averages,
        "confusion_matrix": {"labels": list(labels), "rows": "true", "columns": "predicted",
                             "matrix": matrix.astype(int).tolist()},
    }


def regression_scores(target: Any, predicted: Any) -> dict[str, Any]:
    """R², mean absolute error and root mean squared error of ``predicted (N,)`` against
    ``target (N,)``, in the target's units."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    target, predicted = np.asarray(target, dtype=float), np.asarray(predicted, dtype=float)
    r2 = float(r2_score(target, predicted)) if len(target) > 1 else math.nan
    return {"metrics": {"r2": r2, "mae": float(mean_absolute_error(target, predicted)),
                        "rmse": float(math.sqrt(mean_squared_error(target, predicted)))}}


def json_ready(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` (JSON has no NaN or infinity)."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(report: dict[str, Any]) -> str:
    """The report as indented JSON, each list of plain values on one line (a confusion-matrix
    row, the labels); non-finite numbers as ``null``."""
    return _indented(json_ready(report), "")


def _indented(value: Any, pad: str) -> str:
    inner = pad + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {_indented(item, inner)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return "[\n" + ",\n".join(inner + _indented(item, inner) for item in value) + f"\n{pad}]"
    return json.dumps(value, allow_nan=False)


def report_tables(report: dict[str, Any]) -> Group:
    """The report as rich tables: the scores; per class; the confusion matrix (rows: true)."""
    scores = Table(title=Text(f"{report['model']} on {report['data']}"), header_style="bold")
    figures = {"rows": str(report["rows"]), "loss": format_loss(report["loss"])}
    figures |= {name: format_metric(value) for name, value in report["metrics"].items()}
    for name in figures:
        scores.add_column(name, justify="right")
    scores.add_row(*figures.values())
    parts: list[Any] = [scores]
    if "classes" in report:
        parts += [_per_class(report), _confusion(report["confusion_matrix"])]
    return Group(*parts)


def _per_class(report: dict[str, Any]) -> Table:
    table = Table(title="per class", header_style="bold")
    table.add_column("class")
    for name in ("precision", "recall", "f1", "support"):
        table.add_column(name, justify="right")
    for row in report["classes"]:
        table.add_row(Text(row["label"]), *(f"{row[k]:.4f}" for k in ("precision", "recall", "f1")),
                      str(row["support"]))
    table.add_section()
    for name, row in report["averages"].items():
        table.add_row(f"{name} avg", *(f"{row[k]:.4f}" for k in ("precision", "recall", "f1")),
                      str(report["rows"]), style="dim")
    return table


def _confusion(confusion: dict[str, Any]) -> Table:
    table = Table(title="confusion matrix (rows: true class, columns: predicted)", header_style="bold")
    table.add_column("true \\ predicted")
    for label in confusion["labels"]:
        table.add_column(label, justify="right")
    for i, (label, line) in enumerate(zip(confusion["labels"], confusion["matrix"])):
        cells = [Text(str(n), style="bold" if i == j else "") for j, n in enumerate(line)]  # bold: correct
        table.add_row(Text(label), *cells)
    return table
