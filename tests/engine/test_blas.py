"""tinynet.engine.blas: ``y += alpha * x`` through numpy's own OpenBLAS, its numpy fallback,
and the OpenBLAS facts it relies on (each test of a fact names the constant that broke)."""

from __future__ import annotations

import ctypes
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from tinynet.engine import blas

BIG = blas.BLAS_MIN_SIZE + 123  # past the threshold, and not a multiple of any vector width
NUMPY_BLAS = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
# numpy's wheels from PyPI (numpy >= 2) bundle scipy-openblas: then every fact must hold.
OFF = bool(os.environ.get(blas.OFF_SWITCH))
BUNDLED = "scipy-openblas" in NUMPY_BLAS.get("name", "") and not OFF
bundled = pytest.mark.skipif(not BUNDLED, reason=f"{blas.OFF_SWITCH} is set" if OFF else
                             f"numpy's BLAS is {NUMPY_BLAS.get('name')!r}, not a bundled scipy-openblas")
needs_blas = pytest.mark.skipif(not blas.blas_axpy_available(np.float64),
                                reason=f"no BLAS update here: {blas.unavailable_reason(np.float64)}")


def broken(fact: str, what: str) -> str:
    return (f"OpenBLAS fact tinynet.engine.blas.{fact} no longer holds on numpy {np.__version__} "
            f"({NUMPY_BLAS.get('name')} {NUMPY_BLAS.get('version')}): {what}. Update the constant "
            f"and the code that uses it; meanwhile pass fused=False or set {blas.OFF_SWITCH}=1.")


def library() -> ctypes.CDLL:
    paths = blas._library_paths()
    assert len(paths) == 1, broken("LIBRARY_FOLDERS / LIBRARY_PATTERN",
                                   f"numpy's config names {NUMPY_BLAS.get('name')}, but the files matching "
                                   f"{blas.LIBRARY_PATTERN!r} in {blas.LIBRARY_FOLDERS} are {paths}")
    return ctypes.CDLL(paths[0])


def raw_axpy(dtype: type, n: int, alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """One call of the bound kernel itself, no splitting: OpenBLAS decides the threads."""
    blas._KERNELS[np.dtype(dtype)](n, alpha, x.ctypes.data, 1, y.ctypes.data, 1)


# ---- the facts ----------------------------------------------------------------------------

@bundled
def test_fact_numpy_bundles_one_openblas_library_where_we_look() -> None:
    library()


@bundled
def test_fact_the_symbols_carry_the_known_prefixes_and_suffixes() -> None:
    lib = library()
    names = [blas.CONFIG_SYMBOL, blas.THREADS_SYMBOL, *blas.AXPY_SYMBOLS.values()]
    missing = [name for name in names if blas._symbol(lib, name) is None]
    assert not missing, broken("SYMBOL_PREFIXES / SYMBOL_SUFFIXES",
                               f"{missing} not found with prefixes {blas.SYMBOL_PREFIXES} and suffixes "
                               f"{blas.SYMBOL_SUFFIXES}")


@bundled
def test_fact_the_config_string_tells_the_integer_width() -> None:
    """USE64BITINT in openblas_get_config() goes with the ILP64 build's 64_ symbol suffix and
    with numpy's own record of the configuration."""
    lib = library()
    suffixed = any(getattr(lib, f"{prefix}cblas_daxpy64_", None) is not None
                   for prefix in blas.SYMBOL_PREFIXES)
    recorded = blas.WIDE_INTEGER_FLAG.decode() in NUMPY_BLAS.get("openblas configuration", "")
    assert blas._LOADED.wide is suffixed, broken(
        "WIDE_INTEGER_FLAG", f"openblas_get_config() {'has' if blas._LOADED.wide else 'lacks'} "
        f"{blas.WIDE_INTEGER_FLAG!r}, but the symbols {'do' if suffixed else 'do not'} end in 64_")
    if "openblas configuration" in NUMPY_BLAS:
        assert blas._LOADED.wide is recorded, broken(
            "WIDE_INTEGER_FLAG", f"numpy records {NUMPY_BLAS['openblas configuration']!r}")


@bundled
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fact_the_kernels_pass_their_self_test(dtype: type) -> None:
    assert blas.blas_axpy_available(dtype), broken("AXPY_SYMBOLS", str(blas.unavailable_reason(dtype)))


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [blas.ONE_THREAD_MAX_N, blas.ONE_THREAD_PIECE, 9_999, 5_001])
def test_fact_openblas_runs_a_small_axpy_on_one_thread(dtype: type, n: int) -> None:
    """A split call would give a share an unfused scalar tail in the middle: a different last bit."""
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    results = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            out = y.copy()
            raw_axpy(dtype, n, -0.3, x, out)
            results.append(out)
    assert np.array_equal(*results), broken(
        "ONE_THREAD_MAX_N", f"an axpy of n={n} gives different bits on one thread and two, so OpenBLAS "
        f"now splits calls of n <= {blas.ONE_THREAD_MAX_N} over threads")


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [4 * BIG + 5, 131569, 200_704, 65_536 + 31])
def test_fact_whole_blocks_per_thread_make_the_thread_count_invisible(dtype: type, n: int) -> None:
    """OpenBLAS gives each thread a share ending in an unfused scalar loop: without the
    split into whole VECTOR_BLOCKs these sizes differ in the last bit between one thread and two.
    The process's thread count is left alone."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    with threadpool_limits(2):
        before = [pool["num_threads"] for pool in threadpool_info()]
        threaded, single = y.copy(), y.copy()
        blas.axpy(-0.3, x, threaded, threaded=True)
        blas.axpy(-0.3, x, single, threaded=False)
        assert [pool["num_threads"] for pool in threadpool_info()] == before
    assert np.array_equal(threaded, single), broken(
        "VECTOR_BLOCK", f"n={n} split into {blas.VECTOR_BLOCK}-element blocks per thread still differs "
        "from one thread")


@needs_blas
def test_fact_a_zero_alpha_does_not_read_x() -> None:
    """Why numpy takes alpha == 0: it turns 0 * inf into NaN, and BLAS would not."""
    x, y = np.full(BIG, np.inf), np.ones(BIG)
    raw_axpy(np.float64, BIG, 0.0, x, y)
    assert blas.BLAS_SKIPS_ZERO_ALPHA == bool((y == 1).all()), broken(
        "BLAS_SKIPS_ZERO_ALPHA", "axpy with alpha == 0 now reads x (the numpy detour can go)")


def test_the_off_switch_keeps_the_library_unloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(blas.OFF_SWITCH, "1")
    loaded = blas._load()
    assert loaded.kernels == {} and blas.OFF_SWITCH in loaded.reasons[None]


def test_unavailable_reason_names_the_dtype_blas_lacks() -> None:
    assert "float16" in str(blas.unavailable_reason(np.float16))
    assert (blas.unavailable_reason(np.float64) is None) == blas.blas_axpy_available(np.float64)
    assert not blas.blas_axpy_available(np.int64)


# ---- axpy and TunedAxpy ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-6), (np.float64, 1e-14)])
@pytest.mark.parametrize("shape", [(BIG,), (7, BIG // 7 + 1), (3,)])
def test_axpy_matches_numpy(dtype: type, rtol: float, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    y = rng.standard_normal(shape).astype(dtype)
    expected = y.astype(np.float64) - 0.37 * x.astype(np.float64)
    blas.axpy(-0.37, x, y)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("case", ["strided x", "strided y", "overlap", "dtypes differ", "read-only x",
                                  "unaligned", "list x"])
def test_axpy_falls_back_to_numpy_where_blas_cannot_take_the_arrays(case: str) -> None:
    rng = np.random.default_rng(1)
    base = rng.standard_normal(2 * BIG)
    x, y = base[:BIG].copy(), rng.standard_normal(BIG)
    if case == "strided x":
        x = base[::2]
    elif case == "strided y":
        y = rng.standard_normal(2 * BIG)[::2]
    elif case == "overlap":
        y = base[1:BIG + 1]
        x = base[:BIG]
    elif case == "dtypes differ":
        x = x.astype(np.float32)
    elif case == "unaligned":
        raw = np.zeros(BIG * 8 + 1, dtype=np.uint8)
        y = raw[1:].view(np.float64)
        y[...] = rng.standard_normal(BIG)
        assert not y.flags.aligned
    elif case == "list x":
        x = x.tolist()
    else:
        x.flags.writeable = False
    expected = y + 2.0 * np.asarray(x)  # computed before y changes (x may alias y)
    blas.axpy(2.0, x, y)
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_axpy_on_itself_doubles_in_place() -> None:
    y = np.arange(BIG, dtype=np.float64)
    blas.axpy(1.0, y, y)
    np.testing.assert_array_equal(y, 2 * np.arange(BIG, dtype=np.float64))


@needs_blas
def test_tuned_axpy_tries_both_then_keeps_one_and_stays_exact() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(BIG)
    tuned = rng.standard_normal(BIG)
    plain = tuned.copy()
    update = blas.TunedAxpy()
    for call in range(2 * update.TRIALS + 3):
        assert (update.threaded is None) == (call < 2 * update.TRIALS)
        update(-0.01, x, tuned)
        blas.axpy(-0.01, x, plain)
    assert isinstance(update.threaded, bool)
    np.testing.assert_array_equal(tuned, plain)


def test_tuned_axpy_leaves_small_arrays_to_numpy_without_trying() -> None:
    update = blas.TunedAxpy()
    y = np.ones(10, dtype=np.float32)
    for _ in range(10):
        update(0.5, np.ones(10, dtype=np.float32), y)
    assert update.threaded is None and y.dtype == np.float32
    np.testing.assert_array_equal(y, np.full(10, 6.0, dtype=np.float32))


def test_a_zero_alpha_still_spreads_nan_like_numpy() -> None:
    """BLAS skips x when alpha is 0; numpy's 0 * inf is NaN (SGD with dampening=1 does this)."""
    x, y = np.full(BIG, np.inf), np.ones(BIG)
    with np.errstate(invalid="ignore"):
        blas.axpy(0.0, x, y)
    assert np.isnan(y).all()


def test_a_masked_y_keeps_its_masked_entries() -> None:
    y = np.ma.masked_array(np.ones(BIG), mask=np.arange(BIG) % 2 == 0)
    blas.axpy(1.0, np.ones(BIG), y)
    np.testing.assert_array_equal(y.data[:4], [1.0, 2.0, 1.0, 2.0])
