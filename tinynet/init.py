"""Weight initialisers, by name or as a callable ``init(rng, shape, fan_in, fan_out, dtype)``.

Each returns a new array of ``shape``. ``"uniform"`` is the article's scheme:
``rng.random(shape)``, uniform on [0, 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet._validation import check_choice, check_int

__all__ = ["Initializer", "get_initializer", "INITIALIZERS", "as_generator"]

Initializer = Callable[[np.random.Generator, tuple[int, ...], int, int, np.dtype[Any]], NDArray[Any]]
RngLike = np.random.Generator | int | None


def as_generator(rng: RngLike, name: str = "rng") -> np.random.Generator:
    """A numpy Generator from a Generator, an int seed, or None (fresh entropy).

    Never touches numpy's global random state.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    return np.random.default_rng(check_int(rng, name, minimum=0))


def uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int,
            dtype: np.dtype[Any]) -> NDArray[Any]:
    """The article's init: ``rng.random(shape)``, uniform on [0, 1)."""
    return rng.random(shape).astype(dtype, copy=False)


def zeros(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int,
          dtype: np.dtype[Any]) -> NDArray[Any]:
    return np.zeros(shape, dtype=dtype)


def he_normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int,
              dtype: np.dtype[Any]) -> NDArray[Any]:
    """Normal with std ``sqrt(2 / fan_in)`` (He et al. 2015), for the ReLU family."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype, copy=False)


def he_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int,
               dtype: np.dtype[Any]) -> NDArray[Any]:
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape).astype(dtype, copy=False)


def glorot_normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int,
                  dtype: np.dtype[Any]) -> NDArray[Any]:
    """Normal with std ``sqrt(2 / (fan_in + fan_out))`` (Glorot & Bengio 2010)."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))).astype(dtype, copy=False)


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int,
                   dtype: np.dtype[Any]) -> NDArray[Any]:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype, copy=False)


INITIALIZERS: dict[str, Initializer] = {
    "uniform": uniform,
    "zeros": zeros,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
}


def get_initializer(init: str | Initializer, name: str = "init") -> Initializer:
    """Look an initialiser up by name, or pass a callable through."""
    if callable(init):
        return init
    return INITIALIZERS[check_choice(init, name, INITIALIZERS)]
