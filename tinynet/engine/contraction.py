"""The contraction engine: einsum notation, BLAS speed.

Every layer writes its math as an einsum spec, e.g. ``"Bi,oi->Bo"``. Plain
``np.einsum`` does not call BLAS for two operands, and ``optimize=True``
searches a contraction path on every call. :func:`einsum` instead *plans* a
spec once per (spec, shapes, dtypes), caches the plan, and runs it:

* two operands -> one ``np.matmul`` on transposed *views* (BLAS reads the
  transpose flag, so no copy is made when each index group is a single axis);
  indices that appear in one operand only and not in the output are summed
  first, indices shared by both operands and the output become matmul's batch
  axis;
* one operand that only sums axes away (``"Bo->o"``) -> a matrix-vector
  product with a cached ones vector, which BLAS runs faster than ``sum(axis=0)``;
* an ellipsis (``"...i,oi->...o"``) stands for the leading axes of the operand
  it is in; it becomes plain index letters before planning, so
  ``(B, T, in) -> (B, T, out)`` is still one matmul on a reshaped view;
* anything else (three or more operands, repeated indices, broadcasting) ->
  ``np.einsum`` with a contraction path searched once and cached.

A call site that runs the same spec on the same shapes every step (a layer's
forward) keeps its plan in a :class:`Contraction` (one per spec in a layer's
:class:`Plans`): a call is then one shape comparison and the BLAS call, without
building and hashing :func:`einsum`'s cache key.

The result equals ``np.einsum(spec, *operands)`` up to floating-point
rounding, in the operands' dtype (no float64 temporaries for float32 input).
One difference: an index must have the same size in every operand (numpy also
broadcasts a size-1 axis there); a mismatch raises ``ValueError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from tinynet.engine.planning import Runner, parse_spec, plan
from tinynet.engine.types import Array

__all__ = ["einsum", "Contraction", "Plans", "parse_spec", "clear_cache", "cache_size"]

_CACHE: dict[tuple[Any, ...], Runner] = {}
_CACHE_LIMIT = 4096


def einsum(spec: str, *operands: Array, out: Array | None = None) -> Array:
    """Evaluate an einsum spec like ``np.einsum``, planned once and run as BLAS.

    Shape: as the spec says, e.g. ``einsum("Bi,oi->Bo", x, W)`` maps
    ``(B, in)`` and ``(out, in)`` to ``(B, out)``.

    ``out``: an array of the result's shape to write into (BLAS writes there
    directly when it can), e.g. a parameter's ``.grad``: no allocation per step.
    Without it, the result may be a non-contiguous view when the output order
    is not the one BLAS produced (a transpose is free; a copy is not).
    """
    # This runs several times per training step: the key is built without a loop.
    try:
        if len(operands) == 2:
            a, b = operands
            key: tuple[Any, ...] = (spec, a.shape, b.shape, a.dtype, b.dtype)
        elif len(operands) == 1:
            key = (spec, operands[0].shape, operands[0].dtype)
        else:
            key = (spec, *[(op.shape, op.dtype) for op in operands])
    except AttributeError:  # lists and scalars: arrays first (never on the hot path)
        return einsum(spec, *_as_arrays(spec, operands), out=out)
    runner = _CACHE.get(key)
    if runner is None:
        runner = plan(spec, operands)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = runner
    try:
        return runner(*operands, out)
    except (ValueError, TypeError):
        if out is None:
            raise
        raise _out_error(spec, runner(*operands, None), out) from None


def _out_error(spec: str, result: Array, out: Any) -> Exception:
    """The error for an ``out=`` that cannot hold ``result``, in einsum's terms."""
    got = (f"an array of shape {out.shape} and dtype {out.dtype}" if isinstance(out, np.ndarray)
           else type(out).__name__)
    why = "" if isinstance(out, np.ndarray) and out.flags.writeable else " (it must be a writable ndarray)"
    kind = ValueError if isinstance(out, np.ndarray) else TypeError
    return kind(f"einsum {spec!r}: out must be an array of the result's shape {result.shape} and dtype "
                f"{result.dtype}, got {got}{why}")


class Contraction:
    """One einsum spec bound to one call site, with the plan of the shapes it last saw.

    Shape: as the spec says; ``Contraction(spec)(a, b, out)`` equals
    ``einsum(spec, a, b, out=out)`` (one operand: ``Contraction(spec)(a, out=out)``).

    While the operands keep their shapes and dtypes (every step of training) a call
    checks them against the last call's and runs the plan; other shapes get theirs
    from :func:`einsum`'s cache. A copy or pickle keeps the spec and plans afresh.
    """

    __slots__ = ("spec", "_a_shape", "_a_dtype", "_b_shape", "_b_dtype", "_runner")

    def __init__(self, spec: str) -> None:
        _check_spec(spec)  # a bad spec fails here, not mid-training
        self.spec = spec
        # The operands the plan is for. The dtypes are compared by identity: numpy keeps one
        # object per built-in dtype, and an equal dtype that is another object only replans.
        self._a_shape: tuple[int, ...] | None = None
        self._b_shape: tuple[int, ...] | None = None
        self._a_dtype: Any = None
        self._b_dtype: Any = None
        self._runner: Runner = _unplanned

    def __call__(self, a: Array, b: Array | None = None, out: Array | None = None) -> Array:
        # (positional out: a keyword argument costs a dict on every call of a training step)
        if b is None:
            if a.shape == self._a_shape and a.dtype is self._a_dtype:
                return self._runner(a, out)
        elif a.shape == self._a_shape and b.shape == self._b_shape and a.dtype is self._a_dtype \
                and b.dtype is self._b_dtype:
            return self._runner(a, b, out)
        return self._replan(a, b, out)

    def _replan(self, a: Array, b: Array | None, out: Array | None) -> Array:
        operands = (a,) if b is None else (a, b)
        result = einsum(self.spec, *operands, out=out)  # validates, plans and caches
        if all(type(op) is np.ndarray for op in operands):
            self._a_shape, self._a_dtype = a.shape, a.dtype
            self._b_shape, self._b_dtype = (None, None) if b is None else (b.shape, b.dtype)
            self._runner = _CACHE[(self.spec, a.shape, a.dtype) if b is None
                                  else (self.spec, a.shape, b.shape, a.dtype, b.dtype)]
        return result

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.spec,))

    def __repr__(self) -> str:
        return f"Contraction({self.spec!r})"


@lru_cache(maxsize=1024)
def _check_spec(spec: str) -> None:
    """Raise ``ValueError`` for a spec einsum cannot read (each spec is read once: every new
    layer binds its specs again)."""
    parse_spec(spec, spec.split("->")[0].count(",") + 1)


def _unplanned(*operands: Any) -> Array:
    raise AssertionError("a Contraction runs its plan only after planning it")


class Plans(dict[str, Callable[..., Array]]):
    """A layer's contractions by spec, each made on first use: ``self.plans[self.FORWARD](x, W)``.

    Each value is its :class:`Contraction`'s bound ``__call__`` (``plans[spec].__self__`` is
    the contraction): Python calls a bound method faster than an instance, several times a step.
    """

    def __missing__(self, spec: str) -> Callable[..., Array]:
        contraction = self[spec] = Contraction(spec).__call__
        return contraction


def _as_arrays(spec: str, operands: tuple[Any, ...]) -> list[Array]:
    arrays = []
    for index, op in enumerate(operands):
        array = np.asarray(op)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"einsum {spec!r}: operand {index} must hold numbers, got dtype {array.dtype}")
        arrays.append(array)
    return arrays


def clear_cache() -> None:
    """Forget every cached plan (they are rebuilt on the next call)."""
    _CACHE.clear()


def cache_size() -> int:
    """How many (spec, shapes, dtypes) plans are cached."""
    return len(_CACHE)
