"""Per-sample weights for ``fit``: checked once, then carried through the batches as one
more input of the loader, so shuffling (and ``last_batch="fill"``, and file-mapped data)
keeps every row with its weight."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinynet.data.loader import DataLoader
from tinynet.engine.types import Array

__all__ = ["check_sample_weight", "with_sample_weight"]

WEIGHT_KEY = "__sample_weight__"  # the weights' name among a dict of inputs


def check_sample_weight(sample_weight: Any, loader: DataLoader, loss: Any) -> Array:
    """``sample_weight`` as a float64 ``(N,)`` array, one per row of ``loader``: finite,
    non-negative, not all zero; ``TypeError`` if ``loss`` cannot weigh samples."""
    if not callable(getattr(loss, "compute_weighted", None)):
        raise TypeError(f"fit sample_weight needs a tinynet loss that weighs samples, got "
                        f"{type(loss).__name__}")
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"fit sample_weight must be numbers, one per sample, got "
                        f"{type(sample_weight).__name__}") from None
    n = loader.n_samples
    if weights.shape != (n,):
        raise ValueError(f"fit sample_weight must have shape ({n},), one weight per row of the loader, "
                         f"got {weights.shape}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        bad = weights[~np.isfinite(weights) | (weights < 0)][0]
        raise ValueError(f"fit sample_weight must be finite and >= 0, got {float(bad)!r}")
    if not weights.any():
        raise ValueError("fit sample_weight: the weights are all zero; at least one must be positive")
    return weights


def with_sample_weight(loader: DataLoader, weights: Array) -> tuple[DataLoader, Splitter]:
    """A loader over the same rows and settings whose inputs end with ``weights`` (drawing
    its shuffles from the same ``rng``), and the function that splits each of its input
    batches into ``(model inputs, weights (b,))``."""
    x = loader.x
    if isinstance(x, dict):
        carried: Any = {**x, WEIGHT_KEY: weights}
        split: Splitter = _split_dict
    elif isinstance(x, tuple):
        carried, split = (*x, weights), _split_tuple
    else:
        carried, split = (x, weights), _split_single
    twin = DataLoader(carried, loader.y, batch_size=loader.batch_size, shuffle=loader.shuffle,
                      last_batch=loader.last_batch, rng=loader.rng)
    return twin, split


Splitter = Callable[[Any], tuple[Any, Array]]


def _split_single(inputs: tuple[Array, Array]) -> tuple[Any, Array]:
    return inputs[0], inputs[1]


def _split_tuple(inputs: tuple[Array, ...]) -> tuple[Any, Array]:
    return inputs[:-1], inputs[-1]


def _split_dict(inputs: dict[str, Array]) -> tuple[Any, Array]:
    rest = dict(inputs)
    return rest, rest.pop(WEIGHT_KEY)
