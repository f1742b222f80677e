"""In-place vector updates through numpy's own BLAS: ``y += alpha * x`` in one pass.

numpy has no fused multiply-add ufunc, so ``w -= lr * g`` is two passes and a
temporary: ``lr * g`` is written out, then read back. On the MLP benchmark that
update cost more than a quarter of the matrix products' time, because the
gradient was just written by BLAS threads on *both* cores and one numpy thread
then drags all of it across. BLAS ``axpy`` does the update in one pass, and
can split it over the thread pool that wrote the gradient; :class:`TunedAxpy`
learns per parameter whether that pays.

The library is the one numpy itself links (shipped inside numpy's wheel). A
second BLAS in the process (scipy's, torch's) would bring a second thread pool
that fights numpy's for the cores, so only numpy's own copy is used. When it
cannot be found or does not answer a self-test, :func:`axpy` falls back to
numpy, with the same result up to the last bit (BLAS may fuse the multiply-add).
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["axpy", "TunedAxpy", "blas_axpy_available"]

Array = NDArray[Any]
_Axpy = Any  # a ctypes foreign function: (n, alpha, x*, incx, y*, incy) -> None


def _numpy_openblas() -> ctypes.CDLL | None:
    """The OpenBLAS bundled with numpy's wheel, or None (system BLAS, MKL, Accelerate)."""
    package = os.path.dirname(np.__file__)
    folders = [package + ".libs", os.path.join(package, ".dylibs")]
    found = [path for folder in folders for path in glob.glob(os.path.join(folder, "*openblas*"))]
    if len(found) != 1:
        return None
    try:
        return ctypes.CDLL(found[0])
    except OSError:
        return None


def _symbol(lib: ctypes.CDLL, name: str) -> Any:
    """``name`` with whichever of numpy's symbol prefixes and suffixes the build uses."""
    for prefix in ("scipy_", ""):
        for suffix in ("64_", ""):
            function = getattr(lib, f"{prefix}{name}{suffix}", None)
            if function is not None:
                return function
    return None


def _bind(lib: ctypes.CDLL) -> dict[np.dtype[Any], _Axpy]:
    """``{float32: saxpy, float64: daxpy}`` with the integer width the build was made with."""
    get_config = _symbol(lib, "openblas_get_config")
    if get_config is None:
        return {}
    get_config.restype = ctypes.c_char_p
    get_config.argtypes = []
    integer = ctypes.c_int64 if b"USE64BITINT" in (get_config() or b"") else ctypes.c_int32
    kernels = {}
    for dtype, letter, scalar in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double)):
        function = _symbol(lib, f"cblas_{letter}axpy")
        if function is None:
            continue
        function.argtypes = [integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
        function.restype = None
        kernels[np.dtype(dtype)] = function
    return kernels


def _self_tested(kernels: dict[np.dtype[Any], _Axpy]) -> dict[np.dtype[Any], _Axpy]:
    """Keep only the kernels that compute ``y + alpha x`` correctly on a small case."""
    passed = {}
    for dtype, function in kernels.items():
        x = np.arange(1, 6, dtype=dtype)
        y = np.full(5, 10, dtype=dtype)
        function(4, -0.5, x.ctypes.data, 1, y.ctypes.data, 1)  # the 5th element stays
        if np.array_equal(y, np.array([9.5, 9, 8.5, 8, 10], dtype=dtype)):
            passed[dtype] = function
    return passed


def _load() -> tuple[dict[np.dtype[Any], _Axpy], Any, Any]:
    """The self-tested axpy kernels and OpenBLAS's thread-count getter and setter."""
    if os.environ.get("TINYNET_NO_BLAS_AXPY"):
        return {}, None, None
    lib = _numpy_openblas()
    if lib is None:
        return {}, None, None
    get_threads = _symbol(lib, "openblas_get_num_threads")
    set_threads = _symbol(lib, "openblas_set_num_threads_local")  # returns the previous count
    if get_threads is None or set_threads is None:
        return {}, None, None
    get_threads.argtypes, get_threads.restype = [], ctypes.c_int
    set_threads.argtypes, set_threads.restype = [ctypes.c_int], ctypes.c_int
    return _self_tested(_bind(lib)), get_threads, set_threads


_KERNELS, _GET_THREADS, _SET_THREADS = _load()
_THREADS_LOCK = threading.Lock()  # set, run, restore: never interleaved with another thread's
# Below this many elements the foreign call's ~2 µs costs more than numpy's second pass.
BLAS_MIN_SIZE = 32768
_BLOCK = 128  # elements: a whole number of every kernel's vector loop (4 to 64 wide)


def blas_axpy_available(dtype: Any) -> bool:
    """Whether :func:`axpy` runs through numpy's BLAS for arrays of ``dtype``."""
    return np.dtype(dtype) in _KERNELS


def _kernel_for(x: Array, y: Array) -> _Axpy | None:
    """The BLAS kernel when it can take these arrays, else None (numpy does the update)."""
    kernel = _KERNELS.get(y.dtype) if y.size >= BLAS_MIN_SIZE else None
    if (kernel is not None and x.dtype == y.dtype and x.shape == y.shape
            and x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable
            and not np.may_share_memory(x, y)):
        return kernel
    return None


def axpy(alpha: float, x: Array, y: Array, threaded: bool = True) -> None:
    """``y += alpha * x``, in place. Shapes: ``x`` and ``y`` the same, any shape.

    One BLAS pass when ``y`` has at least ``BLAS_MIN_SIZE`` elements and both are
    C-contiguous arrays of the same float dtype that do not overlap; otherwise
    numpy's two passes. ``alpha`` is used in ``y``'s dtype, so float32 stays
    float32. ``threaded=False`` runs the BLAS pass on the calling thread only
    (see :class:`TunedAxpy`); the result is the same either way.
    """
    kernel = _kernel_for(x, y)
    if kernel is None:
        y += float(alpha) * x  # a Python float is a "weak" scalar: float32 stays float32
    else:
        _run(kernel, alpha, x, y, threaded)


def _run(kernel: _Axpy, alpha: float, x: Array, y: Array, threaded: bool) -> None:
    """One BLAS axpy with the same result on any number of threads.

    OpenBLAS splits ``n`` into one equal share per thread, and each share ends in a
    scalar loop (a separate multiply and add) after its vector loop (fused). So the
    head is cut to a multiple of ``_BLOCK`` per thread, which leaves no share a
    scalar tail, and the short rest is a call of its own, on one thread.
    """
    n, threads = y.size, _GET_THREADS()
    head = n - n % (_BLOCK * threads)
    x_at, y_at = x.ctypes.data, y.ctypes.data
    if threaded:
        kernel(head, alpha, x_at, 1, y_at, 1)
    else:
        with _THREADS_LOCK:
            previous = _SET_THREADS(1)
            try:
                kernel(head, alpha, x_at, 1, y_at, 1)
            finally:
                _SET_THREADS(previous)
    if head < n:  # below OpenBLAS's threading size: always one thread
        kernel(n - head, alpha, x_at + head * y.itemsize, 1, y_at + head * y.itemsize, 1)


class TunedAxpy:
    """:func:`axpy` for one parameter's recurring updates, which learns from its first
    calls whether BLAS threads pay.

    They pay when the arrays are already spread over the cores: a gradient that a
    threaded BLAS product wrote (MLP at batch 128: 775 µs per step with them, 863
    without). They cost when one core holds it all: at batch 1 the weight gradient
    is an outer product that numpy writes on one core (291 µs per step with them,
    152 without). So the first ``2 * TRIALS`` BLAS calls alternate between the two,
    timed, and the faster median is kept. The thread count never changes a result.
    """

    TRIALS = 3

    def __init__(self) -> None:
        self.threaded: bool | None = None  # None while still trying both
        self._seconds: dict[bool, list[float]] = {True: [], False: []}

    def __call__(self, alpha: float, x: Array, y: Array) -> None:
        kernel = _kernel_for(x, y) if y.size >= BLAS_MIN_SIZE else None
        if kernel is None:
            y += float(alpha) * x
        elif self.threaded is not None:
            _run(kernel, alpha, x, y, self.threaded is not False)
        else:
            threaded = len(self._seconds[True]) <= len(self._seconds[False])  # alternate, threads first
            start = time.perf_counter()
            _run(kernel, alpha, x, y, threaded)
            self._seconds[threaded].append(time.perf_counter() - start)
            if len(self._seconds[False]) == self.TRIALS:
                self.threaded = bool(np.median(self._seconds[True]) <= np.median(self._seconds[False]))
