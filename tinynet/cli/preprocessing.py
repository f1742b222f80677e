"""What the ``tinynet`` command does to features before the network sees them, fitted on the
training rows and saved with the model.

A CSV's columns are typed first (:func:`column_kinds`): numbers, dates (ISO ``2012-01-31`` or
``2012/01/31``, read as days since 1970) and categories (strings, booleans). Missing cells
(``""``, ``NA``, ``?``, ...) are missing whatever the column. Then scikit-learn does the work
(:class:`ColumnPreprocessing`): a ``ColumnTransformer`` imputes numbers and dates with the
median and scales them to zero mean and unit variance, and imputes categories with the most
frequent value and one-hot encodes them (an unknown category later is all zeros). Its fitted
state is stored as JSON (:mod:`tinynet.cli.estimator_state`), never pickled.

The built-in data sets keep the article's preprocessing (:class:`Preprocessing`): rows scaled
to unit length, then standardized on request, by numpy.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from tinynet.cli import estimator_state
from tinynet.cli.errors import DataError
from tinynet.engine.types import Array

__all__ = ["MISSING", "KINDS", "is_missing", "column_kinds", "parse_columns", "Preprocessing",
           "ColumnPreprocessing"]

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-", "--", "#n/a"}
KINDS = ("number", "date", "category")
BOOLEAN = {"true", "false", "yes", "no"}
MAX_DISTINCT_SHARE = 0.5  # a string column with more distinct values than this share of rows
MAX_CATEGORIES = 20       # (and more than this many) is an identifier or free text, not a category
_DATE = re.compile(r"\d{4}([-/])\d{1,2}\1\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?")
_EPOCH = datetime(1970, 1, 1)


def is_missing(cell: str) -> bool:
    """Whether a (stripped) CSV cell stands for a missing value."""
    return cell.lower() in MISSING


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _date(cell: str) -> float | None:
    """Days since 1970-01-01 for an ISO-like date (``2012-01-31``, ``2012/1/31 08:30``)."""
    if not _DATE.fullmatch(cell):
        return None
    try:
        moment = datetime.fromisoformat(cell.replace("/", "-"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return (moment - _EPOCH).total_seconds() / 86400


def column_kinds(cells: Array, names: list[str]) -> tuple[list[str], dict[str, str]]:
    """Each column's kind (``"number"``, ``"date"`` or ``"category"``) and, by name, why the
    columns that cannot be features are unusable.

    ``cells``: ``(N, F)`` stripped strings. Unusable: every cell missing; one value in every
    row (it tells the rows nothing); a string column with more than ``MAX_CATEGORIES``
    distinct values that are more than half its rows (names, ids, free text: one-hot
    columns that no new row would match).
    """
    kinds: list[str] = []
    unusable: dict[str, str] = {}
    for j, name in enumerate(names):
        present = [cell for cell in cells[:, j] if not is_missing(cell)]
        distinct = set(present)
        if all(_number(cell) is not None for cell in distinct):
            kind = "number"
        elif all(_date(cell) is not None for cell in distinct):
            kind = "date"
        else:
            kind = "category"
        kinds.append(kind)
        if not present:
            unusable[name] = "every cell is missing"
        elif len(distinct) == 1:
            unusable[name] = f"the same value {present[0]!r} in every row"
        elif kind == "category" and len(distinct) > max(MAX_CATEGORIES, MAX_DISTINCT_SHARE * len(present)) \
                and not distinct <= {cell.lower() for cell in BOOLEAN}:
            unusable[name] = (f"{len(distinct)} distinct strings in {len(present)} rows: an identifier "
                              f"or free text, not a category")
    return kinds, unusable


def parse_columns(cells: Array, kinds: list[str], names: list[str]) -> Array:
    """``(N, F)`` cells -> an ``(N, F)`` object array: floats for numbers and dates (days since
    1970), strings for categories (booleans in lower case), ``nan`` for missing cells. A cell
    that does not fit its column's kind is a :class:`DataError` naming the column and row."""
    out = np.empty(cells.shape, dtype=object)
    for j, (kind, name) in enumerate(zip(kinds, names)):
        for i, cell in enumerate(cells[:, j]):
            if is_missing(cell):
                out[i, j] = math.nan
            elif kind == "category":
                out[i, j] = cell.lower() if cell.lower() in BOOLEAN else cell  # TRUE, True, true alike
            else:
                value = _number(cell) if kind == "number" else _date(cell)
                if value is None:
                    expected = "a number" if kind == "number" else "a date such as 2012-01-31"
                    raise DataError(f"column {name!r} row {i + 1}: {cell!r} is not {expected} (the "
                                    f"model was trained on {kind}s in this column)")
                out[i, j] = value
    return out


@dataclass
class Preprocessing:
    """The built-in sets' preprocessing: row normalisation (unit L2 norm, the article's) then
    standardisation (training statistics). ``(N, F) -> (N, F)`` floats."""

    normalize_rows: bool = False
    mean: list[float] | None = None
    scale: list[float] | None = None

    @property
    def width(self) -> int | None:
        """The number of network inputs it gives (``None``: one per feature)."""
        return None

    def describe(self) -> str:
        steps = ["rows scaled to unit length"] if self.normalize_rows else []
        if self.mean is not None:
            steps.append("standardized")
        return ", then ".join(steps) or "none"

    def fit(self, x: Array, standardize: bool) -> Preprocessing:
        if standardize:
            rows = self._normalized(x)
            std = rows.std(axis=0)
            self.mean, self.scale = rows.mean(axis=0).tolist(), np.where(std > 0, std, 1.0).tolist()
        return self

    def apply(self, x: Array) -> Array:
        x = self._normalized(np.asarray(x, dtype=np.float64))
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
        """The preprocessing saved by :meth:`to_json` (of this class or of
        :class:`ColumnPreprocessing`), checked: a bool, and ``None`` or ``n_features`` finite
        numbers for the mean and the (positive) scale."""
        if isinstance(data, dict) and data.get("kind") == "columns":
            return ColumnPreprocessing.from_json(data, n_features)
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


def _is_real(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class ColumnPreprocessing(Preprocessing):
    """A CSV's preprocessing: typed columns through a fitted scikit-learn ``ColumnTransformer``.

    ``(N, F)`` stripped string cells -> ``(N, width)`` float64: numbers and dates imputed
    (median), optionally rows scaled to unit length, standardized; categories imputed (most
    frequent) and one-hot encoded, unknown ones as all zeros. ``target`` is the fitted
    ``StandardScaler`` of a regression target (``None`` when the target is not scaled).
    """

    def __init__(self, names: list[str], kinds: list[str], transformer: Any, target: Any = None) -> None:
        super().__init__()
        self.names, self.kinds, self.transformer, self.target = names, kinds, transformer, target
        self._width = int(sum(stop - start for start, stop in _output_ranges(transformer)))

    @classmethod
    def fitted(cls, cells: Array, names: list[str], kinds: list[str], *, standardize: bool = True,
               normalize_rows: bool = False) -> ColumnPreprocessing:
        """Fit on the training rows' ``cells`` ``(N, F)``, whose columns are ``kinds``."""
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import Normalizer, OneHotEncoder, StandardScaler

        numeric = [j for j, kind in enumerate(kinds) if kind != "category"]
        categories = [j for j, kind in enumerate(kinds) if kind == "category"]
        steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
        if normalize_rows:
            steps.append(("normalize", Normalizer()))
        if standardize:
            steps.append(("scale", StandardScaler()))
        parts: list[tuple[str, Any, list[int]]] = []
        if numeric:
            parts.append(("numbers", Pipeline(steps), numeric))
        if categories:
            parts.append(("categories", Pipeline([
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("one_hot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), categories))
        transformer = ColumnTransformer(parts, sparse_threshold=0.0)
        transformer.fit(parse_columns(cells, kinds, names))
        return cls(names, kinds, transformer)

    def fit_target(self, y: Array) -> Array:
        """Fit the target's ``StandardScaler`` on the training targets ``(N,)``; return them scaled."""
        from sklearn.preprocessing import StandardScaler

        self.target = StandardScaler().fit(np.asarray(y, dtype=np.float64).reshape(-1, 1))
        return self.scale_target(y)

    def scale_target(self, y: Array) -> Array:
        """Targets ``(N,)`` in the file's units -> the units the network is trained in."""
        if self.target is None:
            return np.asarray(y, dtype=np.float64)
        return np.asarray(self.target.transform(np.asarray(y, dtype=np.float64).reshape(-1, 1))[:, 0])

    @property
    def width(self) -> int:
        return self._width

    def __repr__(self) -> str:
        return f"ColumnPreprocessing({self.describe()}; {self.width} inputs)"

    def __eq__(self, other: object) -> bool:  # the same fitted state, value for value
        return isinstance(other, ColumnPreprocessing) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def describe(self) -> str:
        plural = {"number": "numbers", "date": "dates", "category": "categories"}
        counts = {kind: self.kinds.count(kind) for kind in KINDS if kind in self.kinds}
        columns = ", ".join(f"{n} {plural[kind] if n > 1 else kind}" for kind, n in counts.items())
        steps = [name for name, _, _ in self.transformer.transformers_ if name != "remainder"]
        numbers = dict((name, t) for name, t, _ in self.transformer.transformers_).get("numbers")
        scaled = numbers is not None and "scale" in numbers.named_steps
        what = [f"columns: {columns}", "missing cells imputed"]
        if "numbers" in steps:
            numbers = "numbers and dates" if "date" in self.kinds else "numbers"
            what.append(f"{numbers} standardized" if scaled else f"{numbers} as they are")
        if "categories" in steps:
            what.append("categories one-hot encoded")
        if self.target is not None:
            what.append("target standardized while training (predictions in its units)")
        return "; ".join(what)

    def apply(self, x: Array) -> Array:
        cells = np.asarray(x, dtype=object)
        if cells.ndim != 2 or cells.shape[1] != len(self.names):
            raise DataError(f"expected {len(self.names)} feature columns {self.names}, got an array of "
                            f"shape {cells.shape}")
        return np.asarray(self.transformer.transform(parse_columns(cells, self.kinds, self.names)),
                          dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "columns", "names": self.names, "kinds": self.kinds, "width": self.width,
                "transformer": estimator_state.to_json(self.transformer),
                "target": None if self.target is None else estimator_state.to_json(self.target)}

    @classmethod
    def from_json(cls, data: Any, n_features: int | None = None) -> ColumnPreprocessing:
        """The preprocessing :meth:`to_json` wrote, rebuilt and checked against ``n_features``."""
        keys = {"kind", "names", "kinds", "width", "transformer", "target"}
        if not isinstance(data, dict) or set(data) != keys or not _strings(data["kinds"], KINDS) \
                or not _strings(data["names"]) or len(data["names"]) != len(data["kinds"]) \
                or (n_features is not None and len(data["kinds"]) != n_features):
            raise DataError(f"the saved preprocessing is malformed: {str(data)[:80]}")
        try:
            transformer = estimator_state.from_json(data["transformer"])
            target = None if data["target"] is None else estimator_state.from_json(data["target"])
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            raise DataError(f"the saved preprocessing cannot be rebuilt ({err})") from None
        if type(transformer).__name__ != "ColumnTransformer" \
                or (target is not None and type(target).__name__ != "StandardScaler"):
            raise DataError("the saved preprocessing is malformed: not a column transformer")
        kinds = list(data["kinds"])
        columns = {name: list(cols) for name, _, cols in getattr(transformer, "transformers_", [])
                   if name != "remainder"}
        expected = {"numbers": [j for j, kind in enumerate(kinds) if kind != "category"],
                    "categories": [j for j, kind in enumerate(kinds) if kind == "category"]}
        if columns != {name: cols for name, cols in expected.items() if cols}:
            raise DataError(f"the saved preprocessing's columns {columns} do not match its kinds {kinds}")
        prep = cls(list(data["names"]), kinds, transformer, target)
        if prep.width != data["width"]:
            raise DataError(f"the saved preprocessing gives {prep.width} columns, not the {data['width']} "
                            f"it says")
        return prep


def _strings(value: Any, allowed: tuple[str, ...] | None = None) -> bool:
    """A list of strings (each one of ``allowed``, if given)."""
    return isinstance(value, list) and all(isinstance(v, str) and (allowed is None or v in allowed)
                                           for v in value)


def _output_ranges(transformer: Any) -> list[tuple[int, int]]:
    """The ``(start, stop)`` output columns of each fitted part of a ``ColumnTransformer``."""
    ranges = getattr(transformer, "output_indices_", None)
    if not isinstance(ranges, dict) or not all(isinstance(s, slice) for s in ranges.values()):
        raise DataError("the saved preprocessing is malformed: no output columns")
    return [(s.start or 0, s.stop or 0) for s in ranges.values()]
