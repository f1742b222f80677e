"""Tables for the ``tinynet`` command: scikit-learn's bundled data sets, CSV files,
and the preprocessing that is saved with a model.

A CSV file has a header row; the target column may hold any labels (strings
or numbers); every other column must be numeric with no missing values. Errors
are one :class:`DataError` line naming the file, column and row.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinynet.engine.checks import did_you_mean
from tinynet.engine.types import Array

__all__ = ["BUILTIN", "DataError", "Table", "Preprocessing", "load_builtin", "read_csv", "load_table",
           "encode_labels", "is_csv_path"]

BUILTIN = ("iris", "digits", "wine", "breast_cancer", "diabetes")
MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}


class DataError(ValueError):
    """A problem with the user's data, said in one line."""


@dataclass
class Table:
    """Features ``x (N, F)`` and, unless absent, targets ``y`` (class codes or numbers)."""

    x: Array
    y: Array | None
    features: list[str]
    target: str | None
    task: str  # "classification" or "regression"
    labels: list[str] | None  # class labels, index = code


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
             task: str = "auto", labels: list[str] | None = None, need_target: bool = True) -> Table:
    """Read ``path``: ``features`` (default: every column but ``target``) must be numeric.

    ``task="auto"`` makes string or integer targets classification and other numbers
    regression. ``labels`` (a saved model's classes) fixes the label codes; a label
    outside them is an error. With ``need_target=False`` the target column may be absent.
    """
    if target is None and need_target:
        raise DataError(f"{path}: name its target column (--target COLUMN)")
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            rows = [row for row in csv.reader(file) if row]
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (it has the byte 0x{err.object[err.start]:02x}); save "
                        f"it as a UTF-8 CSV file") from None
    except csv.Error as err:
        raise DataError(f"{path}: not a readable CSV file ({err})") from None
    if not rows:
        raise DataError(f"{path}: the file is empty; it needs a header row and data rows")
    header = [name.strip() for name in rows[0]]
    if len(header) == 1:
        other = next((d for d in (";", "\t", "|") if d in header[0]), None)
        if other is not None:
            raise DataError(f"{path}: the header is one column {header[0][:60]!r}; tinynet reads "
                            f"comma-separated files, and this one seems separated by {other!r} "
                            f"(save it with commas)")
    body = rows[1:]
    if not body:
        raise DataError(f"{path}: no data rows below the header")
    if len(set(header)) != len(header):
        raise DataError(f"{path}: the header repeats a column name: {header}")
    for number, row in enumerate(body, 1):
        if len(row) != len(header):
            raise DataError(f"{path}: row {number} (line {number + 1}) has {len(row)} fields but the "
                            f"header has {len(header)}")
    if target is not None and target not in header and need_target:
        close = did_you_mean(target, header)
        raise DataError(f"{path}: no target column {target!r}; the columns are {header}"
                        + close)
    if features is None:
        features = [name for name in header if name != target]
    missing = [name for name in features if name not in header]
    if missing:
        raise DataError(f"{path}: the model needs the feature column(s) {missing}, not in {header}")
    if not features:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    x = np.empty((len(body), len(features)))
    for j, name in enumerate(features):
        column = header.index(name)
        for i, row in enumerate(body):
            x[i, j] = _number(row[column], path, name, i + 1)
    if target is None or target not in header:
        return Table(x, None, features, target, task, labels)
    column = header.index(target)
    raw = [row[column].strip() for row in body]
    for i, value in enumerate(raw):
        if value.lower() in MISSING:
            raise DataError(f"{path}: missing value in target column {target!r} at row {i + 1} "
                            f"(line {i + 2})")
    if task == "auto":
        task = _guess_task(raw)
    if task == "regression":
        y = np.array([_number(v, path, target, i + 1) for i, v in enumerate(raw)])
        return Table(x, y, features, target, task, None)
    codes, labels = encode_labels(raw, labels, path, target)
    return Table(x, codes, features, target, task, labels)


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


def _is_real(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _guess_task(raw: list[str]) -> str:
    if not all(_is_number(v) for v in raw):
        return "classification"
    return "classification" if all(float(v).is_integer() for v in raw) else "regression"


@dataclass
class Preprocessing:
    """Row normalisation (unit L2 norm, the article's) then standardisation (train statistics)."""

    normalize_rows: bool = False
    mean: list[float] | None = None
    scale: list[float] | None = None

    def fit(self, x: Array, standardize: bool) -> Preprocessing:
        if standardize:
            rows = self._normalized(x)
            std = rows.std(axis=0)
            self.mean, self.scale = rows.mean(axis=0).tolist(), np.where(std > 0, std, 1.0).tolist()
        return self

    def apply(self, x: Array) -> Array:
        x = self._normalized(x)
        if self.mean is not None and self.scale is not None:
            x = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        return x

    def _normalized(self, x: Array) -> Array:
        if not self.normalize_rows:
            return x
        from sklearn.preprocessing import normalize

        return normalize(x)

    def to_json(self) -> dict[str, Any]:
        return {"normalize_rows": self.normalize_rows, "mean": self.mean, "scale": self.scale}

    @classmethod
    def from_json(cls, data: Any, n_features: int | None = None) -> Preprocessing:
        """The preprocessing saved by :meth:`to_json`, checked: a bool, and ``None`` or
        ``n_features`` finite numbers for the mean and the (positive) scale."""
        if not isinstance(data, dict) or set(data) != {"normalize_rows", "mean", "scale"} \
                or not isinstance(data["normalize_rows"], bool) \
                or (data["mean"] is None) != (data["scale"] is None):
            raise DataError(f"the saved preprocessing is malformed: {str(data)[:80]}")
        for key in ("mean", "scale"):
            values = data[key]
            if values is None:
                continue
            if not isinstance(values, list) or (n_features is not None and len(values) != n_features) \
                    or not all(_is_real(v) and (key == "mean" or v > 0) for v in values):
                raise DataError(f"the saved preprocessing's {key} must be {n_features} finite numbers"
                                f"{' > 0' if key == 'scale' else ''}, got {str(values)[:80]}")
        return cls(data["normalize_rows"], data["mean"], data["scale"])
