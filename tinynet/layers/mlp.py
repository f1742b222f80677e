"""`build_mlp`: the multi-layer perceptron behind the ``tinynet`` command and the
scikit-learn estimators."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import DTypeLike

from tinynet.layers import Dense, Dropout, Sequential
from tinynet.layers.base import LayerLike
from tinynet.layers.initializers import Initializer, RngLike, as_generator

__all__ = ["build_mlp"]


def build_mlp(
    n_in: int,
    hidden: Sequence[int],
    n_out: int,
    activation: Callable[[], LayerLike],
    init: str | Initializer,
    rng: RngLike,
    dtype: DTypeLike = np.float64,
    dropout: float = 0.0,
) -> Sequential:
    """``Dense(n_in, hidden[0]) -> activation [-> Dropout] -> ... -> Dense(hidden[-1], n_out)``.

    Shape: ``(B, n_in) -> (B, n_out)``.

    An ``activation()`` follows every hidden ``Dense``, none the last one: its
    outputs are logits for the loss (softmax or sigmoid live in the loss). With
    ``dropout > 0`` a ``Dropout(dropout)`` follows every hidden activation (none
    with 0, so the network is the same as without the argument). With no
    ``hidden`` sizes it is one ``Dense(n_in, n_out)``. The layers draw their weights
    in order from one generator, so one seed reproduces the whole network; the
    dropout masks come from the same generator while training.
    """
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"build_mlp dropout must be a probability in [0, 1), got {dropout!r}")
    generator = as_generator(rng)
    sizes = [n_in, *hidden, n_out]
    layers: list[LayerLike] = [Dense(sizes[0], sizes[1], init=init, rng=generator, dtype=dtype)]
    for n_from, n_to in zip(sizes[1:-1], sizes[2:]):
        layers.append(activation())
        if dropout > 0:
            layers.append(Dropout(dropout, rng=generator))
        layers.append(Dense(n_from, n_to, init=init, rng=generator, dtype=dtype))
    return Sequential(*layers)
