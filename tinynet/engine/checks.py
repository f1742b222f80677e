"""Checks shared by the public entry points; each error names the argument."""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype: Any, name: str = "dtype") -> np.dtype[Any]:
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise ``TypeError``."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from err
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {resolved}")
    return resolved


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """A Python/numpy integer (not bool) ``>= minimum``."""
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number inside the given (closed unless ``*_open``) bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    v = float(value)
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        raise ValueError(f"{name} must be a finite number {bounds}, got {value!r}")
    return v


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """One of ``choices``; the error lists them and suggests the closest."""
    options = list(choices)
    if isinstance(value, str) and value in options:
        return value
    raise ValueError(f"{name} must be one of {options}, got {value!r}{did_you_mean(value, options, ';')}")


def did_you_mean(value: Any, options: Iterable[str], lead: str = "") -> str:
    """``" (did you mean 'relu'?)"`` for the closest of ``options``, or ``""``.

    With ``lead=";"`` the hint reads ``"; did you mean 'relu'?"`` instead.
    """
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(options), n=1)
    if not close:
        return ""
    return f"; did you mean {close[0]!r}?" if lead == ";" else f" (did you mean {close[0]!r}?)"


def as_float_array(x: Any, name: str, *, ndim: int | None = None, min_ndim: int = 1,
                   keep_integers: bool = False) -> NDArray[Any]:
    """Convert to a finite, non-empty float array (integers become float64, or stay
    integers with ``keep_integers``: token ids for a layer that takes integers)."""
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be array-like of numbers, got {type(x).__name__}") from err
    if array.dtype.kind in "iu" and keep_integers:
        pass
    elif array.dtype.kind in "biu":
        array = array.astype(np.float64)
    elif array.dtype.kind != "f":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {array.dtype}")
    elif array.dtype not in FLOAT_DTYPES:
        array = array.astype(np.float64)
    if ndim is not None and array.ndim != ndim:
        hint = _reshape_hint(array, ndim)
        raise ValueError(f"{name} must be {ndim}-D, got an array of shape {array.shape}{hint}")
    if array.ndim < min_ndim:
        hint = _reshape_hint(array, 2) if min_ndim == 2 else ""
        raise ValueError(f"{name} must be at least {min_ndim}-D, got shape {array.shape}{hint}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); it needs at least one row")
    check_finite(array, name)
    return array


def check_finite(array: NDArray[Any], name: str) -> None:
    """Raise ``ValueError`` naming where the first NaN or inf is."""
    # min and max propagate NaN and show inf without a data-sized boolean temporary.
    if array.dtype.kind == "f" and not (np.isfinite(array.min()) and np.isfinite(array.max())):
        where = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in where)})")


def _reshape_hint(array: NDArray[Any], ndim: int) -> str:
    if ndim == 2 and array.ndim == 1:
        return "; use x.reshape(-1, 1) for one feature or x.reshape(1, -1) for one sample"
    return ""
