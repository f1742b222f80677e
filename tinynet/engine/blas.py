"""In-place ``y += alpha * x`` in one pass through numpy's own OpenBLAS: the optimizers'
``fused`` update, beside numpy's two-pass reference.

numpy has no fused multiply-add ufunc, so ``w -= lr * g`` writes ``lr * g`` out and
reads it back; BLAS ``axpy`` makes the update in one pass, and can split it over the
thread pool that just wrote the gradient. Only numpy's own copy of OpenBLAS is used:
a second BLAS in the process (scipy's, torch's) would bring a second thread pool that
fights numpy's for the cores. When it cannot be found or fails its self-test,
:func:`unavailable_reason` says why and every update is numpy's, equal up to the last
bit (BLAS may fuse the multiply-add).

Everything this module assumes about OpenBLAS is one named constant in the block
below; ``tests/engine/test_blas.py`` checks each on the installed numpy and names the
one that stopped holding. Nothing outside this module and the optimizers' fused path
knows about ctypes.
"""

from __future__ import annotations

import ctypes
import glob
import os
import time
from typing import Any, Literal

import numpy as np

from tinynet.engine.types import Array

__all__ = ["axpy", "TunedAxpy", "blas_axpy_available", "unavailable_reason"]

_Axpy = Any  # a ctypes foreign function: (n, alpha, x*, incx, y*, incy) -> None

# ---- The OpenBLAS facts this module relies on (each checked by tests/engine/test_blas.py) ----
# Set to any non-empty value: never load the library, every update is numpy's.
OFF_SWITCH = "TINYNET_NO_BLAS_AXPY"
# numpy's wheels bundle their OpenBLAS in numpy.libs/ (auditwheel, delvewheel) or numpy/.dylibs/ (delocate).
LIBRARY_FOLDERS = ("{numpy}.libs", os.path.join("{numpy}", ".dylibs"))
# ...as exactly one file whose name contains "openblas" (numpy's build config then names scipy-openblas).
LIBRARY_PATTERN = "*openblas*"
# scipy-openblas (numpy >= 2) prefixes every symbol with "scipy_"; older wheels used the plain names.
SYMBOL_PREFIXES = ("scipy_", "")
# The ILP64 build (64-bit BLAS integers) suffixes every symbol with "64_".
SYMBOL_SUFFIXES = ("64_", "")
# The kernels used: y += alpha * x, and the two getters below.
AXPY_SYMBOLS: dict[np.dtype[Any], str] = {np.dtype(np.float32): "cblas_saxpy",
                                          np.dtype(np.float64): "cblas_daxpy"}
CONFIG_SYMBOL, THREADS_SYMBOL = "openblas_get_config", "openblas_get_num_threads"
# openblas_get_config() contains this word when BLAS integers are 64-bit, else they are 32-bit.
WIDE_INTEGER_FLAG = b"USE64BITINT"
# interface/axpy.c runs an axpy of n <= 10000 on the calling thread alone, whatever the pool's size.
ONE_THREAD_MAX_N = 10_000
# A threaded axpy gives each thread an equal share whose tail runs an unfused scalar loop; a share
# of whole blocks has no tail (every kernel's vector loop is 4 to 64 elements wide).
VECTOR_BLOCK = 128
# axpy returns at alpha == 0 without reading x, where numpy's 0 * inf is NaN: numpy takes alpha == 0.
BLAS_SKIPS_ZERO_ALPHA = True
# The kernels read stride-1, element-aligned memory (and x must not overlap y): numpy's flags say so.
ARRAY_FLAGS: tuple[Literal["C_CONTIGUOUS", "ALIGNED"], ...] = ("C_CONTIGUOUS", "ALIGNED")
# ---- Tuning (not an OpenBLAS fact; docs/benchmarks.md has the measurements) ----
# Below this many elements the foreign call costs more than numpy's second pass.
BLAS_MIN_SIZE = 32768
# The largest whole number of blocks that still runs on one thread.
ONE_THREAD_PIECE = ONE_THREAD_MAX_N // VECTOR_BLOCK * VECTOR_BLOCK


def _library_paths() -> list[str]:
    """Files matching ``LIBRARY_PATTERN`` in ``LIBRARY_FOLDERS`` of the installed numpy."""
    package = os.path.dirname(np.__file__)
    folders = [folder.format(numpy=package) for folder in LIBRARY_FOLDERS]
    return [path for folder in folders for path in sorted(glob.glob(os.path.join(folder, LIBRARY_PATTERN)))]


def _symbol(lib: ctypes.CDLL, name: str) -> Any:
    """``name`` with whichever of ``SYMBOL_PREFIXES`` and ``SYMBOL_SUFFIXES`` the build uses, or None."""
    for prefix in SYMBOL_PREFIXES:
        for suffix in SYMBOL_SUFFIXES:
            function = getattr(lib, f"{prefix}{name}{suffix}", None)
            if function is not None:
                return function
    return None


def _self_test(function: _Axpy, dtype: np.dtype[Any]) -> bool:
    """Whether ``function`` computes ``y + alpha x`` on a small case (and leaves ``y[n:]`` alone)."""
    x = np.arange(1, 6, dtype=dtype)
    y = np.full(5, 10, dtype=dtype)
    function(4, -0.5, x.ctypes.data, 1, y.ctypes.data, 1)
    return bool(np.array_equal(y, np.array([9.5, 9, 8.5, 8, 10], dtype=dtype)))


class _Loaded:
    """What :func:`_load` found: the self-tested kernels by dtype, the thread-count getter,
    the largest ``n`` the integer width holds, and why anything is missing."""

    def __init__(self) -> None:
        self.kernels: dict[np.dtype[Any], _Axpy] = {}
        self.get_threads: Any = None
        self.largest = 0
        self.wide: bool | None = None
        self.reasons: dict[np.dtype[Any] | None, str] = {}  # None: the whole library


def _load() -> _Loaded:
    loaded = _Loaded()
    if os.environ.get(OFF_SWITCH):
        loaded.reasons[None] = f"{OFF_SWITCH} is set in the environment"
        return loaded
    paths = _library_paths()
    if len(paths) != 1:
        loaded.reasons[None] = (f"expected one file matching {LIBRARY_PATTERN!r} in numpy's "
                                f"{' or '.join(LIBRARY_FOLDERS)}, found {len(paths)} (numpy's BLAS is "
                                "not the OpenBLAS bundled in its wheel)")
        return loaded
    try:
        lib = ctypes.CDLL(paths[0])
    except OSError as err:
        loaded.reasons[None] = f"ctypes could not load {paths[0]}: {err}"
        return loaded
    get_config, get_threads = _symbol(lib, CONFIG_SYMBOL), _symbol(lib, THREADS_SYMBOL)
    if get_config is None or get_threads is None:
        loaded.reasons[None] = (f"{paths[0]} has no {CONFIG_SYMBOL} or {THREADS_SYMBOL} with prefixes "
                                f"{SYMBOL_PREFIXES} and suffixes {SYMBOL_SUFFIXES}")
        return loaded
    get_config.argtypes, get_config.restype = [], ctypes.c_char_p
    get_threads.argtypes, get_threads.restype = [], ctypes.c_int
    loaded.get_threads = get_threads
    loaded.wide = WIDE_INTEGER_FLAG in (get_config() or b"")
    integer = ctypes.c_int64 if loaded.wide else ctypes.c_int32
    loaded.largest = 2**63 - 1 if loaded.wide else 2**31 - 1
    for dtype, name in AXPY_SYMBOLS.items():
        function = _symbol(lib, name)
        if function is None:
            loaded.reasons[dtype] = f"{paths[0]} has no {name} with prefixes {SYMBOL_PREFIXES}"
            continue
        scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
        function.argtypes = [integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
        function.restype = None
        if _self_test(function, dtype):
            loaded.kernels[dtype] = function
        else:
            loaded.reasons[dtype] = f"{name} failed its self-test (y += alpha * x on 4 of 5 elements)"
    return loaded


_LOADED = _load()
_KERNELS = _LOADED.kernels


def blas_axpy_available(dtype: Any) -> bool:
    """Whether :func:`axpy` runs through numpy's BLAS for arrays of ``dtype``."""
    return np.dtype(dtype) in _KERNELS


def unavailable_reason(dtype: Any = None) -> str | None:
    """Why the BLAS update cannot run for ``dtype`` (any float dtype when None), or None if it can."""
    if None in _LOADED.reasons:
        return _LOADED.reasons[None]
    if dtype is None:
        return None if _KERNELS else "; ".join(_LOADED.reasons.values())
    resolved = np.dtype(dtype)
    if resolved in _KERNELS:
        return None
    return _LOADED.reasons.get(resolved, f"BLAS axpy takes float32 and float64, not {resolved}")


def _kernel_for(x: Any, y: Array, alpha: float) -> _Axpy | None:
    """The BLAS kernel when it can take these arrays, else None (numpy does the update)."""
    kernel = _KERNELS.get(y.dtype) if BLAS_MIN_SIZE <= y.size <= _LOADED.largest else None
    if (kernel is not None and type(x) is np.ndarray and type(y) is np.ndarray
            and x.dtype == y.dtype and x.shape == y.shape and not (BLAS_SKIPS_ZERO_ALPHA and alpha == 0)
            and y.flags.writeable and all(x.flags[flag] and y.flags[flag] for flag in ARRAY_FLAGS)
            and not np.may_share_memory(x, y)):
        return kernel
    return None


def _numpy_axpy(alpha: float, x: Any, y: Array) -> None:
    y += float(alpha) * np.asarray(x)  # a Python float is a "weak" scalar: float32 stays float32


def axpy(alpha: float, x: Array, y: Array, threaded: bool = True) -> None:
    """``y += alpha * x``, in place. Shapes: ``x`` and ``y`` the same, any shape.

    One BLAS pass when ``y`` has at least ``BLAS_MIN_SIZE`` elements and both are
    C-contiguous, aligned arrays of the same float dtype that do not overlap;
    otherwise numpy's two passes. ``alpha`` is used in ``y``'s dtype, so float32
    stays float32. ``threaded=False`` keeps the BLAS pass on the calling thread;
    the result is the same either way, bit for bit.
    """
    kernel = _kernel_for(x, y, alpha)
    if kernel is None:
        _numpy_axpy(alpha, x, y)
    else:
        _run(kernel, alpha, x, y, threaded)


def _run(kernel: _Axpy, alpha: float, x: Array, y: Array, threaded: bool) -> None:
    """One BLAS axpy whose result does not depend on how many threads run it.

    A threaded call gets a head of whole ``VECTOR_BLOCK`` per thread (no share has an
    unfused tail); the rest, or the whole array when not ``threaded``, goes in pieces of
    at most ``ONE_THREAD_MAX_N`` that OpenBLAS never splits. The thread count is never changed.
    """
    n, size = y.size, y.itemsize
    x_at, y_at = x.ctypes.data, y.ctypes.data
    head = n - n % (VECTOR_BLOCK * _LOADED.get_threads()) if threaded else 0
    if head:
        kernel(head, alpha, x_at, 1, y_at, 1)
    for start in range(head, n, ONE_THREAD_PIECE):
        kernel(min(ONE_THREAD_PIECE, n - start), alpha, x_at + start * size, 1, y_at + start * size, 1)


class TunedAxpy:
    """:func:`axpy` for one parameter's recurring update, which learns from its first
    calls whether BLAS threads pay.

    Threads pay when BLAS threads on every core just wrote the gradient, and cost when
    one core holds it (a batch-1 outer product), so the first ``2 * TRIALS`` BLAS calls
    alternate between the two, timed, and the faster median is kept. The thread count
    never changes a result.

    Call it as :func:`axpy`: ``update(alpha, x, y)``, ``x`` and ``y`` arrays of one shape.
    """

    TRIALS = 3

    def __init__(self) -> None:
        self.threaded: bool | None = None  # None while still trying both
        self._seconds: dict[bool, list[float]] = {True: [], False: []}

    def __call__(self, alpha: float, x: Array, y: Array) -> None:
        if y.size < BLAS_MIN_SIZE:  # the common small case first: a bias, a small net
            y += float(alpha) * x
            return
        kernel = _kernel_for(x, y, alpha)
        if kernel is None:
            _numpy_axpy(alpha, x, y)
        elif self.threaded is not None:
            _run(kernel, alpha, x, y, self.threaded)
        else:
            threaded = len(self._seconds[True]) <= len(self._seconds[False])  # alternate, threads first
            start = time.perf_counter()
            _run(kernel, alpha, x, y, threaded)
            self._seconds[threaded].append(time.perf_counter() - start)
            if len(self._seconds[False]) == self.TRIALS:
                self.threaded = bool(np.median(self._seconds[True]) <= np.median(self._seconds[False]))
