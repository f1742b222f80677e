"""Numbers as the display prints them: losses and metrics short enough to read at a glance.

A loss that has exploded prints as ``1.23e+127``, never as the 130 digits that a
fixed ``.6f`` would give; ordinary values keep fixed decimals, so columns line up.
"""

from __future__ import annotations

import math

__all__ = ["format_loss", "format_metric", "format_value"]

FIXED_RANGE = (1e-4, 1e5)  # fixed decimals inside, three significant digits outside


def format_loss(value: float) -> str:
    """``0.123457`` for ordinary losses; ``1.23e+127``, ``4.56e-07``, ``nan``, ``inf`` otherwise."""
    return _compact(value, 6)


def format_metric(value: float) -> str:
    """``0.9500`` for ordinary metrics; compact like :func:`format_loss` outside ``1e-4 .. 1e5``."""
    return _compact(value, 4)


def format_value(key: str, value: float) -> str:
    """A log entry by its name: losses (``loss``, ``val_loss``, ...) with 6 decimals, others with 4."""
    return format_loss(value) if "loss" in key else format_metric(value)


def _compact(value: float, decimals: int) -> str:
    value = float(value)
    if not math.isfinite(value) or value == 0 or FIXED_RANGE[0] <= abs(value) < FIXED_RANGE[1]:
        return f"{value:.{decimals}f}"
    return f"{value:.3g}"
