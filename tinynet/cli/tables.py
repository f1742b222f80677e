"""Tables for the ``tinynet`` command: scikit-learn's bundled data sets and CSV files.

A CSV file has a header row and any delimiter of ``,``, ``;``, tab or ``|``. Its cells are
read as strings; :mod:`tinynet.cli.preprocessing` types and transforms the feature columns.
The target column may hold labels (strings or numbers) or numbers to predict; rows with a
missing target are left out. Errors are one :class:`DataError` line naming the file,
column and row.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinynet.cli.errors import DataError
from tinynet.cli.preprocessing import MISSING, Preprocessing, is_missing
from tinynet.engine.checks import did_you_mean
from tinynet.engine.types import Array

__all__ = ["BUILTIN", "DataError", "Table", "Preprocessing", "load_builtin", "read_csv", "load_table",
           "encode_labels", "is_csv_path", "guess_task"]

BUILTIN = ("iris", "digits", "wine", "breast_cancer", "diabetes")
MAX_CLASSES = 20   # whole-number targets with more distinct values are regression
CLASS_SHARE = 0.1  # and so are those with distinct values above this share of the rows


@dataclass
class Table:
    """Features ``x (N, F)`` (floats for a built-in set, string cells for a CSV) and, unless
    absent, targets ``y`` (class codes or numbers)."""

    x: Array
    y: Array | None
    features: list[str]
    target: str | None
    task: str  # "classification" or "regression"
    labels: list[str] | None  # class labels, index = code
    reason: str = ""  # why the task was chosen, when it was guessed
    dropped: int = 0  # rows left out for a missing target


def load_builtin(name: str) -> Table:
    """One of scikit-learn's bundled sets (no download): iris, digits, wine, breast_cancer, diabetes."""
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{name}")()
    features = [str(f) for f in getattr(bunch, "feature_names", range(bunch.data.shape[1]))]
    if name == "diabetes":
        return Table(bunch.data.astype(np.float64), bunch.target.astype(np.float64), features, "target",
                     "regression", None)
    labels = [str(t) for t in bunch.target_names]
    return Table(bunch.data.astype(np.float64), bunch.target.astype(np.intp), features, "target",
                 "classification", labels)


def is_csv_path(data: str) -> bool:
    """Whether ``--data`` names a CSV file (``.csv`` in any case) rather than a built-in set."""
    return data not in BUILTIN and data.lower().endswith(".csv")


def load_table(data: str, target: str | None, **kwargs: Any) -> Table:
    """``data`` is a built-in name or a CSV path (then ``target`` names its target column).

    ``kwargs`` go to :func:`read_csv`; a built-in set must match the ``features``,
    ``task`` and ``labels`` given (a saved model's), which it cannot be read by.
    """
    if data in BUILTIN:
        table = load_builtin(data)
        _check_builtin(table, data, kwargs.get("features"), kwargs.get("task", "auto"),
                       kwargs.get("labels"))
        return table
    if not is_csv_path(data):
        hint = did_you_mean(data, BUILTIN, ";")
        raise DataError(f"--data must be one of {list(BUILTIN)} or a .csv file, got {data!r}"
                        + hint)
    return read_csv(data, target, **kwargs)


def _check_builtin(table: Table, name: str, features: list[str] | None, task: str,
                   labels: list[str] | None) -> None:
    if task not in ("auto", table.task):
        raise DataError(f"{name} is a {table.task} data set, not {task}")
    if features is not None and features != table.features:
        raise DataError(f"the model was trained on the features {_preview(features)}, but {name} has "
                        f"{_preview(table.features)}")
    if labels is not None and labels != table.labels:
        raise DataError(f"the model knows the classes {_preview(labels)}, but {name} has "
                        f"{_preview(table.labels or [])}")


def _preview(names: list[str], shown: int = 4) -> str:
    """``['a', 'b', ...] (30 in all)`` for long lists."""
    if len(names) <= shown:
        return str(names)
    listed = ", ".join(repr(name) for name in names[:shown])
    return f"[{listed}, ...] ({len(names)} in all)"


def read_csv(path: str, target: str | None, *, features: list[str] | None = None,
             drop: list[str] | None = None, task: str = "auto", labels: list[str] | None = None,
             need_target: bool = True) -> Table:
    """Read ``path``: its ``features`` (default: every column but ``target`` and ``drop``) as an
    ``(N, F)`` object array of stripped string cells, typed later by the preprocessing.

    The delimiter is sniffed (``,``, ``;``, tab or ``|``). Rows whose target cell is missing
    are left out (``Table.dropped`` counts them). ``task="auto"`` guesses the task from the
    target (:func:`guess_task`, ``Table.reason`` says why). ``labels`` (a saved model's
    classes) fixes the label codes; a label outside them is an error. With
    ``need_target=False`` (predicting) the target column's cells are not read at all: it may
    be absent, blank or stale.
    """
    if target is None and need_target:
        raise DataError(f"{path}: name its target column (--target COLUMN)")
    header, body = _read_rows(path)
    if target is not None and target not in header and need_target:
        close = did_you_mean(target, header)
        raise DataError(f"{path}: no target column {target!r}; the columns are {header}"
                        + close)
    unknown = [name for name in (drop or []) + (features or []) if name not in header]
    if unknown:
        hints = "".join(did_you_mean(name, header) for name in unknown)
        raise DataError(f"{path}: no column(s) {unknown}; the columns are {header}" + hints)
    if features is None:
        features = [name for name in header if name != target and name not in (drop or [])]
    elif target in features and need_target:
        raise DataError(f"{path}: the target {target!r} cannot also be a feature")
    if not features:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    columns = [header.index(name) for name in features]
    cells = np.array([[row[j].strip() for j in columns] for row in body], dtype=object).reshape(
        len(body), len(columns))
    if not need_target or target is None or target not in header:
        return Table(cells, None, features, target, task, labels)
    column = header.index(target)
    raw = [row[column].strip() for row in body]
    keep = [i for i, value in enumerate(raw) if not is_missing(value)]
    if not keep:
        raise DataError(f"{path}: every cell of the target column {target!r} is missing")
    cells, raw = cells[keep], [raw[i] for i in keep]
    reason = ""
    if task == "auto":
        task, reason = guess_task(raw)
    table = Table(cells, None, features, target, task, labels, reason=reason, dropped=len(body) - len(keep))
    if task == "regression":
        table.y = np.array([_number(v, path, target, i + 1) for i, v in zip(keep, raw)])
        return table
    table.y, table.labels = encode_labels(raw, labels, path, target)
    return table


def _read_rows(path: str) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows of ``path``, the delimiter sniffed; one-line errors."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            sample = file.read(65536)
            file.seek(0)
            rows = [row for row in csv.reader(file, delimiter=_delimiter(sample)) if row]
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (it has the byte 0x{err.object[err.start]:02x}); save "
                        f"it as a UTF-8 CSV file") from None
    except csv.Error as err:
        raise DataError(f"{path}: not a readable CSV file ({err})") from None
    if not rows:
        raise DataError(f"{path}: the file is empty; it needs a header row and data rows")
    header = [name.strip() for name in rows[0]]
    body = rows[1:]
    if not body:
        raise DataError(f"{path}: no data rows below the header")
    if len(set(header)) != len(header):
        raise DataError(f"{path}: the header repeats a column name: {header}")
    for number, row in enumerate(body, 1):
        if len(row) != len(header):
            raise DataError(f"{path}: row {number} (line {number + 1}) has {len(row)} fields but the "
                            f"header has {len(header)}")
    return header, body


def _delimiter(sample: str) -> str:
    """The delimiter of a CSV file from its first lines (``csv.Sniffer``); ``,`` when unsure."""
    lines = sample.splitlines()
    if len(lines) > 1 and len(sample) == 65536:
        sample = "\n".join(lines[:-1])  # the last line may be cut short
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def encode_labels(raw: list[str], labels: list[str] | None, path: str,
                  column: str) -> tuple[Array, list[str]]:
    """Label strings -> integer codes. New labels are sorted (numerically when all are numbers)."""
    if labels is None:
        unique = set(raw)
        numeric = all(_is_number(v) for v in unique)
        labels = sorted(unique, key=float if numeric else str)
    index = {label: code for code, label in enumerate(labels)}
    codes = np.empty(len(raw), dtype=np.intp)
    for i, value in enumerate(raw):
        if value not in index:
            raise DataError(f"{path}: column {column!r} row {i + 1} (line {i + 2}) has the label "
                            f"{value!r}, which the model does not know (it knows {labels})")
        codes[i] = index[value]
    return codes, labels


def _number(text: str, path: str, column: str, row: int) -> float:
    value = text.strip()
    if value.lower() in MISSING:
        raise DataError(f"{path}: missing value in column {column!r} at row {row} (line {row + 1})")
    try:
        number = float(value)
    except ValueError:
        raise DataError(f"{path}: column {column!r} row {row} (line {row + 1}): {value!r} is not a "
                        f"number (feature columns must be numeric)") from None
    if not math.isfinite(number):
        raise DataError(f"{path}: column {column!r} row {row} (line {row + 1}): {value!r} is not finite")
    return number


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def guess_task(raw: list[str]) -> tuple[str, str]:
    """``("classification" | "regression", why)`` for a target column's (present) cells.

    Strings are classes; numbers with a fraction are regression. Whole numbers are classes
    when there are 2 distinct values, or at most ``MAX_CLASSES`` (20) that are at most
    ``CLASS_SHARE`` (10%) of the rows, close to AutoGluon's problem-type inference: 0/1/2
    codes are classes, a body mass in whole grams (94 values in 344 rows) is a number.
    """
    rows, distinct = len(raw), set(raw)
    if not all(_is_number(v) for v in distinct):
        return "classification", f"it holds strings, {len(distinct)} classes"
    values = {float(v) for v in distinct}
    if not all(v.is_integer() for v in values):
        return "regression", "it holds numbers with fractions"
    limit = max(2, min(MAX_CLASSES, int(CLASS_SHARE * rows)))
    counted = f"{len(values)} distinct whole numbers in {rows} rows"
    if len(values) <= limit:
        return "classification", f"{counted}: at most {limit} count as classes"
    return "regression", f"{counted}: more than the {limit} that would count as classes"
