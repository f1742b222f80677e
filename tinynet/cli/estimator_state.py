"""Fitted scikit-learn transformers as plain JSON, and back, without pickle.

A fitted transformer is its class and its ``__getstate__()`` dict (what pickle would
store), written out value by value: numbers, strings, lists, numpy arrays (dtype, shape
and the values as a list), dtypes, slices and nested transformers. Loading builds the
object with ``__new__`` and ``__setstate__`` (scikit-learn's own persistence hooks), so
the rebuilt transformer is the fitted one, attribute for attribute, and transforms rows
bit for bit alike. Only the classes in :data:`CLASSES` are rebuilt: a file cannot name
arbitrary code to import, which is the danger of pickle.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np

__all__ = ["CLASSES", "to_json", "from_json"]

CLASSES = {
    "ColumnTransformer": "sklearn.compose",
    "Pipeline": "sklearn.pipeline",
    "SimpleImputer": "sklearn.impute",
    "StandardScaler": "sklearn.preprocessing",
    "OneHotEncoder": "sklearn.preprocessing",
    "Normalizer": "sklearn.preprocessing",
}
_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def to_json(value: Any) -> Any:
    """``value`` (a fitted transformer, or anything in its state) as JSON-ready data."""
    if isinstance(value, np.generic):  # first: np.float64 is also a float
        return {"scalar": value.dtype.str, "value": to_json(value.item())}
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufUO":
            raise TypeError(f"cannot store an array of dtype {value.dtype}")
        return {"array": "O" if value.dtype.kind == "O" else value.dtype.str, "shape": list(value.shape),
                "values": [to_json(v) for v in value.ravel().tolist()]}
    if isinstance(value, np.dtype):
        return {"dtype": value.str}
    if isinstance(value, type) and issubclass(value, np.generic):
        return {"type": np.dtype(value).str}
    if isinstance(value, (list, tuple)):
        items = [to_json(v) for v in value]
        return items if isinstance(value, list) else {"tuple": items}
    if isinstance(value, slice):
        return {"slice": [value.start, value.stop, value.step]}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError(f"cannot store a dict with non-string keys: {list(value)[:3]}")
        return {"dict": {key: to_json(v) for key, v in value.items()}}
    name = type(value).__name__
    if CLASSES.get(name) and type(value).__module__.startswith(CLASSES[name]):
        return {"estimator": name, "state": to_json(value.__getstate__())}
    raise TypeError(f"cannot store a {type(value).__module__}.{name} as JSON")


def from_json(data: Any) -> Any:
    """The value :func:`to_json` wrote; ``ValueError`` for anything it could not have written."""
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if isinstance(data, list):
        return [from_json(v) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2, 3):
        raise ValueError(f"unexpected stored value {str(data)[:60]}")
    if "float" in data and data["float"] in _FLOATS:
        return _FLOATS[data["float"]]
    if "scalar" in data:
        return np.dtype(data["scalar"]).type(from_json(data["value"]))
    if "array" in data:
        shape, values = data.get("shape"), data.get("values")
        if not isinstance(shape, list) or not isinstance(values, list) or math.prod(shape) != len(values):
            raise ValueError(f"a stored array's shape {shape} does not fit its values")
        dtype = object if data["array"] == "O" else np.dtype(data["array"])
        items = [from_json(v) for v in values]
        array = np.empty(len(items), dtype=dtype)
        array[:] = items
        return array.reshape(shape)
    if "dtype" in data:
        return np.dtype(data["dtype"])
    if "type" in data:
        return np.dtype(data["type"]).type
    if "tuple" in data:
        return tuple(from_json(v) for v in data["tuple"])
    if "slice" in data and isinstance(data["slice"], list) and len(data["slice"]) == 3:
        return slice(*data["slice"])
    if "dict" in data and isinstance(data["dict"], dict):
        return {key: from_json(v) for key, v in data["dict"].items()}
    if "estimator" in data and data["estimator"] in CLASSES:
        cls = getattr(importlib.import_module(CLASSES[data["estimator"]]), data["estimator"])
        state = from_json(data.get("state"))
        if not isinstance(state, dict) or "_sklearn_version" not in state:
            raise ValueError(f"the stored {data['estimator']} has no fitted state")
        estimator = cls.__new__(cls)
        estimator.__setstate__(state)
        return estimator
    raise ValueError(f"unexpected stored value {str(data)[:60]}")
