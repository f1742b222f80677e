"""`tinynet predict MODEL INPUT.csv [-o OUT.csv] [--proba] [--id COLUMN]`: a saved model's
predictions for the rows of a CSV file.

The feature columns are read and preprocessed as in training; the target column,
when present, is ignored (it may be blank: the "fill this column in" file). The output
is CSV: the ``--id`` column if asked, the predicted target, and with ``--proba`` one
probability column per class (``proba_<label>``). Without ``-o`` it goes to standard
output; ``-o`` writes the whole file or nothing (a temporary file renamed into place).
"""

from __future__ import annotations

import argparse
import csv
import sys

from tinynet.cli.outputs import check_output
from tinynet.cli.saved_model import SavedModel, load_saved_model
from tinynet.cli.tables import DataError, read_csv
from tinynet.display.console import get_console

__all__ = ["predict", "prediction_rows"]


def predict(args: argparse.Namespace) -> int:
    if args.output:
        check_output("-o", args.output, [("model", args.model), ("input", args.input)])
    saved = load_saved_model(args.model)
    if args.proba and saved.task != "classification":
        raise DataError(f"--proba: {args.model} predicts numbers (regression); probabilities are "
                        f"for classification models")
    ids = read_column(args.input, args.id) if args.id else None
    rows = prediction_rows(saved, args.input, proba=args.proba, ids=None if ids is None else (args.id, ids))
    if not args.output:
        csv.writer(sys.stdout, lineterminator="\n").writerows(rows)
        return 0
    from tinynet.saving.atomic import atomic_file

    with atomic_file(args.output, "w", newline="", encoding="utf-8") as file:  # all or nothing
        csv.writer(file).writerows(rows)
    get_console().print(f"wrote {len(rows) - 1} predictions to {args.output}", highlight=False)
    return 0


def prediction_rows(saved: SavedModel, path: str, *, proba: bool = False,
                    ids: tuple[str, list[str]] | None = None) -> list[list[str]]:
    """The output CSV's rows, header first: ``[id], target, [proba_<label> ...]``."""
    table = read_csv(path, None, features=saved.features, need_target=False)  # the target is never read
    outputs = saved.outputs(saved.inputs(table.x))
    predicted = saved.predictions(outputs)
    if saved.task == "regression":
        values = [repr(float(v)) for v in predicted]
    else:
        values = [(saved.labels or [])[int(code)] for code in predicted]
    header = [saved.meta["target"] or "prediction"]
    columns: list[list[str]] = [values]
    if proba:
        probabilities = saved.probabilities(outputs)
        header += [f"proba_{label}" for label in saved.labels or []]
        columns += [[repr(float(p)) for p in probabilities[:, k]] for k in range(probabilities.shape[1])]
    if ids is not None:
        name, values_of_id = ids
        if name in header:
            raise DataError(f"--id {name}: the output already has a column {name!r}; choose another")
        header.insert(0, name)
        columns.insert(0, values_of_id)
    return [header, *(list(row) for row in zip(*columns))]


def read_column(path: str, name: str) -> list[str]:
    """The cells of column ``name`` of the CSV ``path`` (read as the features are), one per row."""
    try:
        table = read_csv(path, None, features=[name], need_target=False)
    except DataError as err:
        raise DataError(f"--id {name}: {err}") from None
    return [str(cell) for cell in table.x[:, 0]]
