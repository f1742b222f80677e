"""`tinynet evaluate MODEL --data DATA [--json]`: a saved model's loss and scores on labelled data.

Classification: accuracy, balanced accuracy, macro F1, per-class precision, recall,
F1 and support, and the confusion matrix. Regression: R², MAE and RMSE in the
target's units. ``--json`` prints the same as one JSON document (``docs/ecosystem.md``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tinynet.cli.reports import classification_scores, json_text, regression_scores, report_tables
from tinynet.cli.saved_model import SavedModel, load_saved_model
from tinynet.cli.tables import DataError, load_table
from tinynet.display.console import get_console
from tinynet.engine.types import Array

__all__ = ["evaluate", "evaluation_report"]


def evaluate(args: argparse.Namespace) -> int:
    saved = load_saved_model(args.model)
    target = args.target or saved.meta["target"]
    table = load_table(args.data, target, features=saved.features, task=saved.task, labels=saved.labels)
    if table.y is None:
        raise DataError(f"{args.data}: no target column {target!r} to evaluate against")
    report = evaluation_report(saved, table.x, table.y, model=args.model, data=args.data)
    if args.json:
        sys.stdout.write(json_text(report) + "\n")
    else:
        get_console().print(report_tables(report))
    return 0


def evaluation_report(saved: SavedModel, x: Array, y: Array, *, model: str, data: str) -> dict[str, Any]:
    """The report of ``saved`` on raw features ``x (N, F)`` and targets ``y (N,)`` (class codes
    or numbers): ``model``, ``data``, ``task``, ``rows``, ``loss``, ``metrics``; for
    classification also ``classes``, ``averages`` and ``confusion_matrix``."""
    import tinynet as tn

    inputs = saved.inputs(x)
    loss = saved.loss()
    outputs = saved.outputs(inputs)
    report: dict[str, Any] = {"model": model, "data": data, "task": saved.task, "rows": len(y),
                              "target": saved.meta["target"],
                              "loss": tn.evaluate(saved.model, loss, inputs, y, metrics=[])["loss"]}
    predicted = saved.predictions(outputs)
    if saved.task == "regression":
        report |= regression_scores(y, predicted)
    else:
        report |= classification_scores(y, predicted, saved.labels or [])
    return report
