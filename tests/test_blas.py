"""tinynet.engine.blas: ``y += alpha * x`` through numpy's own BLAS, and its numpy fallback."""

from __future__ import annotations

import numpy as np
import pytest

import tinynet as tn
from tinynet.engine import blas

BIG = blas.BLAS_MIN_SIZE + 123  # past the threshold, and not a multiple of any vector width
NUMPY_OPENBLAS = "openblas" in np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]


@pytest.mark.skipif(not NUMPY_OPENBLAS, reason="numpy is not built with OpenBLAS here")
def test_numpy_openblas_is_found_and_bound_for_both_float_dtypes() -> None:
    assert blas.blas_axpy_available(np.float32)
    assert blas.blas_axpy_available(np.float64)
    assert not blas.blas_axpy_available(np.int64)


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


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_on_a_big_parameter_matches_the_numpy_path(monkeypatch: pytest.MonkeyPatch,
                                                        momentum: float) -> None:
    """The BLAS update and numpy's agree to rounding, step after step (float32 too)."""
    rng = np.random.default_rng(2)
    start = rng.standard_normal((64, BIG // 64 + 1)).astype(np.float32)
    grads = [rng.standard_normal(start.shape).astype(np.float32) for _ in range(5)]

    def trajectory() -> np.ndarray:
        p = tn.Parameter(start)
        optimizer = tn.SGD([p], lr=0.1, momentum=momentum)
        for g in grads:
            p.grad[...] = g
            optimizer.step()
        assert p.data.dtype == np.float32
        return p.data.copy()

    fast = trajectory()
    monkeypatch.setattr(blas, "_KERNELS", {})
    slow = trajectory()
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-6)
    assert not np.array_equal(fast, start)


def test_adam_on_a_big_parameter_matches_the_numpy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    start = rng.standard_normal(BIG)
    grads = [rng.standard_normal(BIG) for _ in range(4)]

    def trajectory() -> np.ndarray:
        p = tn.Parameter(start)
        optimizer = tn.Adam([p], lr=0.01)
        for g in grads:
            p.grad[...] = g
            optimizer.step()
        return p.data.copy()

    fast = trajectory()
    monkeypatch.setattr(blas, "_KERNELS", {})
    np.testing.assert_allclose(fast, trajectory(), rtol=1e-12, atol=1e-14)


needs_blas = pytest.mark.skipif(not blas.blas_axpy_available(np.float64),
                                reason="numpy's OpenBLAS is not found here")


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [4 * BIG + 5, 131569, 200_704, 65_536 + 31])
def test_the_thread_count_never_changes_the_result_and_is_left_alone(dtype: type, n: int) -> None:
    """OpenBLAS gives each thread a share ending in an unfused scalar loop: without the
    aligned split these sizes differ in the last bit between one thread and two."""
    from threadpoolctl import threadpool_info, threadpool_limits

    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    with threadpool_limits(2):
        before = [pool["num_threads"] for pool in threadpool_info()]
        threaded, single = y.copy(), y.copy()
        blas.axpy(-0.3, x, threaded, threaded=True)
        blas.axpy(-0.3, x, single, threaded=False)
        assert [pool["num_threads"] for pool in threadpool_info()] == before
    np.testing.assert_array_equal(threaded, single)


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


def test_each_kind_of_update_has_its_own_tuner() -> None:
    """A tuner compares one update with itself, threads against none: never the weight
    update on threads against the moment update without."""
    params = [tn.Parameter(np.zeros(BIG)) for _ in range(2)]
    sgd = tn.SGD(params, lr=0.1, momentum=0.9)
    adam = tn.Adam(params)
    for optimizer, other in ((sgd, sgd._update_buffer), (adam, adam._update_exp_avg)):
        tuners = [*optimizer._update_weight, *other]
        assert len({id(t) for t in tuners}) == 4
        for p in params:
            p.grad[...] = 1.0
        for _ in range(2 * blas.TunedAxpy.TRIALS + 1):  # SGD's buffer starts as a copy
            optimizer.step()
        assert all(isinstance(t.threaded, bool) for t in tuners) == blas.blas_axpy_available(np.float64)
