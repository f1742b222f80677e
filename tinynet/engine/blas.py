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


def _bind(lib: ctypes.CDLL) -> tuple[dict[np.dtype[Any], _Axpy], int]:
    """``{float32: saxpy, float64: daxpy}`` bound with the integer width the build was
    made with, and the largest ``n`` that width holds."""
    get_config = _symbol(lib, "openblas_get_config")
    if get_config is None:
        return {}, 0
    get_config.restype = ctypes.c_char_p
    get_config.argtypes = []
    wide = b"USE64BITINT" in (get_config() or b"")
    integer = ctypes.c_int64 if wide else ctypes.c_int32
    kernels = {}
    for dtype, letter, scalar in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double)):
        function = _symbol(lib, f"cblas_{letter}axpy")
        if function is None:
            continue
        function.argtypes = [integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
        function.restype = None
        kernels[np.dtype(dtype)] = function
    return kernels, 2**63 - 1 if wide else 2**31 - 1


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


def _load() -> tuple[dict[np.dtype[Any], _Axpy], Any, int]:
    """The self-tested axpy kernels, OpenBLAS's thread-count getter and the largest ``n``."""
    if os.environ.get("TINYNET_NO_BLAS_AXPY"):
        return {}, None, 0
    lib = _numpy_openblas()
    get_threads = None if lib is None else _symbol(lib, "openblas_get_num_threads")
    if lib is None or get_threads is None:
        return {}, None, 0
    get_threads.argtypes, get_threads.restype = [], ctypes.c_int
    kernels, largest = _bind(lib)
    return _self_tested(kernels), get_threads, largest


_KERNELS, _GET_THREADS, _LARGEST = _load()
# Below this many elements the foreign call's ~2 µs costs more than numpy's second pass.
BLAS_MIN_SIZE = 32768
_BLOCK = 128  # elements: a whole number of every kernel's vector loop (4 to 64 wide)
_ONE_THREAD = 78 * _BLOCK  # OpenBLAS runs an axpy of n <= 10000 on the calling thread alone


def blas_axpy_available(dtype: Any) -> bool:
    """Whether :func:`axpy` runs through numpy's BLAS for arrays of ``dtype``."""
    return np.dtype(dtype) in _KERNELS


def _kernel_for(x: Any, y: Array, alpha: float) -> _Axpy | None:
    """The BLAS kernel when it can take these arrays, else None (numpy does the update).

    Not for ``alpha == 0``: BLAS then skips ``x`` altogether, where numpy turns an
    infinite or NaN ``x`` into NaN.
    """
    kernel = _KERNELS.get(y.dtype) if BLAS_MIN_SIZE <= y.size <= _LARGEST else None
    if (kernel is not None and type(x) is np.ndarray and type(y) is np.ndarray
            and x.dtype == y.dtype and x.shape == y.shape and alpha != 0
            and x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable
            and x.flags.aligned and y.flags.aligned and not np.may_share_memory(x, y)):
        return kernel
    return None


def _numpy_axpy(alpha: float, x: Any, y: Array) -> None:
    y += float(alpha) * np.asarray(x)  # a Python float is a "weak" scalar: float32 stays float32


def axpy(alpha: float, x: Array, y: Array, threaded: bool = True) -> None:
    """``y += alpha * x``, in place. Shapes: ``x`` and ``y`` the same, any shape.

    One BLAS pass when ``y`` has at least ``BLAS_MIN_SIZE`` elements and both are
    C-contiguous, aligned arrays of the same float dtype that do not overlap;
    otherwise numpy's two passes. ``alpha`` is used in ``y``'s dtype, so float32
    stays float32. ``threaded=False`` keeps the BLAS pass on the calling thread
    (see :class:`TunedAxpy`); the result is the same either way, bit for bit.
    """
    kernel = _kernel_for(x, y, alpha)
    if kernel is None:
        _numpy_axpy(alpha, x, y)
    else:
        _run(kernel, alpha, x, y, threaded)


def _run(kernel: _Axpy, alpha: float, x: Array, y: Array, threaded: bool) -> None:
    """One BLAS axpy whose result does not depend on how many threads run it.

    OpenBLAS splits ``n`` into one equal share per thread, and each share ends in a
    scalar loop (a separate multiply and add) after its vector loop (fused). So a
    threaded call gets a head that is a whole number of ``_BLOCK`` per thread (no
    share has a scalar tail); the rest, or the whole array when not ``threaded``,
    goes in pieces that OpenBLAS never splits. The process's thread count is
    never changed.
    """
    n, size = y.size, y.itemsize
    x_at, y_at = x.ctypes.data, y.ctypes.data
    head = n - n % (_BLOCK * _GET_THREADS()) if threaded else 0
    if head:
        kernel(head, alpha, x_at, 1, y_at, 1)
    for start in range(head, n, _ONE_THREAD):
        kernel(min(_ONE_THREAD, n - start), alpha, x_at + start * size, 1, y_at + start * size, 1)


class TunedAxpy:
    """:func:`axpy` for one parameter's recurring updates, which learns from its first
    calls whether BLAS threads pay.

    They pay when the arrays are already spread over the cores: a gradient that a
    threaded BLAS product wrote (MLP at batch 128: 779 µs per step with them, 882
    without). They cost when one core holds it all: at batch 1 the weight gradient
    is an outer product that numpy writes on one core (285 µs per step with them,
    167 without). So the first ``2 * TRIALS`` BLAS calls alternate between the two,
    timed, and the faster median is kept. The thread count never changes a result.

    Call it as :func:`axpy`: ``update(alpha, x, y)``, ``x`` and ``y`` arrays of one shape.
    """

    TRIALS = 3

    def __init__(self) -> None:
        self.threaded: bool | None = None  # None while still trying both
        self._seconds: dict[bool, list[float]] = {True: [], False: []}

    def __call__(self, alpha: float, x: Array, y: Array) -> None:
        if y.size < BLAS_MIN_SIZE:  # the common small case first: a bias, the iris net
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
