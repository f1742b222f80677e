"""Weight initialisers, by name or as a callable ``init(rng, shape, fan_in, fan_out, dtype)``.

Each returns a new array of ``shape``. ``"uniform"`` is the article's scheme:
``rng.random(shape)``, uniform on [0, 1). Layers draw their starting weight and
bias with :func:`init_weight_and_bias`, which checks what a custom initialiser
returns, and write ``init`` into their config with :func:`init_config`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinynet.engine.checks import check_choice, check_int
from tinynet.engine.sizes import check_size

__all__ = ["Initializer", "get_initializer", "INITIALIZERS", "as_generator", "initial_array",
           "init_weight_and_bias", "init_config", "weights_overwritten"]

Initializer = Callable[[np.random.Generator, tuple[int, ...], int, int, np.dtype[Any]], NDArray[Any]]
RngLike = np.random.Generator | int | None


def as_generator(rng: RngLike, name: str = "rng", *, weights_only: bool = False) -> np.random.Generator:
    """A numpy Generator from a Generator, an int seed, or None (fresh entropy).

    Never touches numpy's global random state. ``weights_only``: the layer draws only its
    starting weights from it (not, like ``Dropout``, masks while training), so while
    ``tinynet.load`` overwrites the weights, None needs no fresh entropy.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        if weights_only and _WEIGHTS_OVERWRITTEN.get():  # tinynet.load: no weight is drawn
            return _UNUSED_RNG
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


def initial_array(initializer: Initializer, rng: np.random.Generator, shape: tuple[int, ...],
                  fan_in: int, fan_out: int, dtype: np.dtype[Any], what: str) -> NDArray[Any]:
    """``initializer(rng, shape, fan_in, fan_out, dtype)``, checked: the result must be
    finite floats of ``shape`` (cast to ``dtype``); ``what`` names it in the error,
    e.g. ``"Dense init returned shape (3,), expected (2, 3)"``. A ``shape`` too large
    to allocate is a ``ValueError`` before anything is drawn."""
    check_size(shape, dtype, what)
    if _WEIGHTS_OVERWRITTEN.get():  # tinynet.load fills every weight from the file next
        return np.zeros(shape, dtype)
    values = np.asarray(initializer(rng, shape, fan_in, fan_out, dtype))
    if values.shape != tuple(shape):
        raise ValueError(f"{what} returned shape {values.shape}, expected {tuple(shape)}")
    if values.dtype.kind != "f":
        raise TypeError(f"{what} returned an array of dtype {values.dtype}, expected floats "
                        f"(the layer's dtype is {dtype})")
    if not np.isfinite(values).all():
        raise ValueError(f"{what} returned NaN or inf values")
    return values.astype(dtype, copy=False)


_WEIGHTS_OVERWRITTEN: ContextVar[bool] = ContextVar("tinynet_weights_overwritten", default=False)
_UNUSED_RNG = np.random.default_rng(0)  # handed out while weights are overwritten; never drawn from


@contextlib.contextmanager
def weights_overwritten() -> Iterator[None]:
    """Inside, :func:`initial_array` skips drawing and gives zeros: for ``tinynet.load``,
    which builds a model only to fill every weight from its file."""
    token = _WEIGHTS_OVERWRITTEN.set(True)
    try:
        yield
    finally:
        _WEIGHTS_OVERWRITTEN.reset(token)


def init_weight_and_bias(init: str | Initializer, rng: np.random.Generator,
                         weight_shape: tuple[int, ...], bias_shape: tuple[int, ...] | None,
                         fan_in: int, fan_out: int, dtype: np.dtype[Any],
                         layer: str) -> tuple[NDArray[Any], NDArray[Any] | None]:
    """A layer's starting weight, and bias (``None`` without ``bias_shape``).

    The bias starts at zero, except with ``init="uniform"``, the article's scheme:
    the weight and then the bias are drawn from ``rng``, in that order, so that one
    Generator shared by the layers reproduces its numbers. ``layer`` (e.g.
    ``"Dense"``) names the layer in errors.
    """
    initializer = get_initializer(init, f"{layer} init")
    weight = initial_array(initializer, rng, weight_shape, fan_in, fan_out, dtype, f"{layer} init")
    if bias_shape is None:
        return weight, None
    bias_init = initializer if init == "uniform" else zeros
    return weight, initial_array(bias_init, rng, bias_shape, fan_in, fan_out, dtype,
                                 f"{layer} init (bias)")


def init_config(init: str | Initializer) -> dict[str, str]:
    """``{"init": name}`` for a named initialiser, ``{}`` for a callable: a callable cannot
    be written to a file, and a loaded model gets its saved weights anyway."""
    return {"init": init} if isinstance(init, str) else {}
