"""The JSON header of a tinynet file: what it must hold, and the limits it must keep.

Checked before anything else is read: the format and its version, the kind
(``"layer"`` or ``"estimator"``), the model description, the metadata, and the
three array tables (``parameters``, ``state``, ``arrays``: name -> shape and
dtype). Limits keep a hostile header from costing time or memory:
:data:`MAX_LAYERS` layer descriptions, :data:`MAX_ARRAYS` arrays, arrays that
fit in the machine's memory, and JSON whose parse stays near 100 MB
(:data:`MAX_JSON_CONTAINERS`, :data:`MAX_JSON_VALUES`, counted before parsing).
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import numpy as np

from tinynet.engine.sizes import memory_limit

__all__ = ["FORMAT_VERSION", "ARRAY_KINDS", "MAX_LAYERS", "MAX_ARRAYS", "MAX_JSON_CONTAINERS",
           "MAX_JSON_VALUES", "decode_header", "listed_arrays", "array_bytes"]

FORMAT_VERSION = 1
ARRAY_KINDS = {"param": "parameters", "state": "state", "array": "arrays"}
MAX_LAYERS = 50_000
MAX_ARRAYS = 200_000
# Parsed JSON costs far more memory than its text: about 75 bytes per object or list and
# 30-50 per value. These bound a header's parse to some 100 MB (an 8,000-layer Graph's
# header holds about 50,000 objects and lists and 150,000 values).
MAX_JSON_CONTAINERS = 500_000
MAX_JSON_VALUES = 1_500_000
MAX_NDIM = 32  # numpy's own limit is 64; no layer has more than a handful of axes


def decode_header(raw: bytes, where: str) -> tuple[dict[str, Any], dict[str, tuple[tuple[int, ...], str]]]:
    """The checked header from its UTF-8 JSON bytes, and the arrays it lists (see
    :func:`listed_arrays`); ``ValueError`` for anything else."""
    containers = raw.count(b"{") + raw.count(b"[")  # (counted in strings too: an upper bound)
    values = raw.count(b",") + raw.count(b":")
    if containers > MAX_JSON_CONTAINERS or values > MAX_JSON_VALUES:
        raise ValueError(f"{where}: the header holds up to {containers:,} JSON objects and lists and "
                         f"{values:,} values; tinynet reads at most {MAX_JSON_CONTAINERS:,} and "
                         f"{MAX_JSON_VALUES:,}")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ValueError(f"{where}: the header is not valid JSON ({err})") from None
    if not isinstance(header, dict) or header.get("format") != "tinynet":
        raise ValueError(f"{where}: not a tinynet model file (header format is not 'tinynet')")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(f"{where}: format_version {version!r} is not supported; this tinynet reads "
                         f"format 1..{FORMAT_VERSION} (a newer tinynet wrote the file?)")
    if header.get("kind") not in ("layer", "estimator"):
        raise ValueError(f"{where}: header kind must be 'layer' or 'estimator', got {header.get('kind')!r}")
    if not isinstance(header.get("model"), dict):
        raise ValueError(f"{where}: the header has no model description ('model' is "
                         f"{'missing' if 'model' not in header else 'not a JSON object'})")
    layers = _count_layers(header["model"])
    if layers > MAX_LAYERS:
        raise ValueError(f"{where}: the header describes {layers:,} layers; tinynet loads at most "
                         f"{MAX_LAYERS:,}")
    if header["kind"] == "estimator":
        info = header.get("estimator")
        if not (isinstance(info, dict) and isinstance(info.get("params"), dict)
                and isinstance(info.get("attributes"), dict) and isinstance(info.get("class"), str)
                and isinstance(info.get("module", ""), str)):
            raise ValueError(f"{where}: the estimator description is malformed")
    if not isinstance(header.get("metadata", {}), dict):
        raise ValueError(f"{where}: header metadata must be a JSON object")
    listed = listed_arrays(header, where)
    total, limit = array_bytes(listed), memory_limit()
    if total > limit:
        raise ValueError(f"{where}: the header lists arrays of {total:,} bytes in all, more than this "
                         f"machine's {limit:,} bytes of memory")
    return header, listed


def listed_arrays(header: dict[str, Any], where: str) -> dict[str, tuple[tuple[int, ...], str]]:
    """Every array the header lists, as ``{"param/0.weight": (shape, dtype string)}``, checked:
    shapes of non-negative integers, plain number dtypes (floats for parameters and state)."""
    listed: dict[str, tuple[tuple[int, ...], str]] = {}
    for prefix, key in ARRAY_KINDS.items():
        table = header.get(key, {})
        if not isinstance(table, dict):
            raise ValueError(f"{where}: header {key!r} must be a JSON object")
        if len(listed) + len(table) > MAX_ARRAYS:
            raise ValueError(f"{where}: the header lists more than {MAX_ARRAYS:,} arrays")
        for name, info in table.items():
            if not isinstance(info, dict) or set(info) != {"shape", "dtype"}:
                raise ValueError(f"{where}: {key} entry {name!r} must be {{'shape': [...], 'dtype': ...}}, "
                                 f"got {str(info)[:80]}")
            shape, dtype = info["shape"], info["dtype"]
            if type(shape) is not list or len(shape) > MAX_NDIM or not all(
                    type(n) is int and n >= 0 for n in shape):
                raise ValueError(f"{where}: {key} entry {name!r} has the shape {str(shape)[:80]}; "
                                 f"expected a list of at most {MAX_NDIM} integers >= 0")
            kinds = "biufU" if prefix == "array" else "f"
            if not isinstance(dtype, str) or not _plain_dtype(dtype, kinds):
                raise ValueError(f"{where}: array {name!r} has dtype {str(dtype)[:40]!r}; expected "
                                 f"{'floats' if kinds == 'f' else 'numbers or strings'}")
            listed[f"{prefix}/{name}"] = (tuple(shape), dtype)
    return listed


def array_bytes(listed: dict[str, tuple[tuple[int, ...], str]], prefixes: tuple[str, ...] = ("",)) -> int:
    """The bytes of the listed arrays whose names start with one of ``prefixes``."""
    return sum(math.prod(shape) * np.dtype(dtype).itemsize for name, (shape, dtype) in listed.items()
               if name.startswith(prefixes))


@functools.lru_cache(maxsize=256)
def _plain_dtype(text: str, kinds: str) -> bool:
    """Whether ``text`` is a numpy dtype string (``"<f8"``, ``"<U5"``) of one of ``kinds``."""
    if len(text) > 16:
        return False
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError, SyntaxError):
        return False
    return dtype.kind in kinds and not dtype.hasobject and dtype.fields is None \
        and dtype.subdtype is None and dtype.str == text


def _count_layers(model: Any) -> int:
    """The layer descriptions in ``model``, counted without recursion (any nesting depth)."""
    count, stack = 0, [model]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            count += "class" in value and "config" in value
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count
