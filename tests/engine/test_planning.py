"""The planner's choices (tinynet/engine/planning.py) give einsum's numbers."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("shapes", [((1, 200), (1, 100)), ((1, 10), (1, 3)), ((4, 1, 150), (4, 1, 120))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_outer_product_above_and_below_the_einsum_size_matches_numpy(shapes, dtype):
    from tinynet.engine.contraction import Contraction
    from tinynet.engine.planning import OUTER_PRODUCT_EINSUM_SIZE

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(dtype) for s in shapes)
    spec = "Bo,Bi->oi" if a.ndim == 2 else "nBo,nBi->noi"
    out = np.empty(np.einsum(spec, a, b).shape, dtype)
    got = Contraction(spec)(a, b, out=out)
    assert got is out and got.dtype == dtype
    np.testing.assert_array_equal(got, np.einsum(spec, a, b))
    small = a.shape[-1] * b.shape[-1] < OUTER_PRODUCT_EINSUM_SIZE
    assert small == (shapes[0] == (1, 10))  # the cases cover both sides of the threshold


def test_a_product_reshaped_into_a_contiguous_out_is_written_in_place():
    from tinynet.engine.contraction import Contraction

    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    out = np.full((2, 3, 5), np.nan)
    got = Contraction("Bij,jk->Bik")(a, b, out=out)
    assert got is out
    np.testing.assert_allclose(out, np.einsum("Bij,jk->Bik", a, b), rtol=1e-12)
    transposed_out = np.full((5, 3, 2), np.nan).transpose(2, 1, 0)  # not C-contiguous: copied in
    Contraction("Bij,jk->Bik")(a, b, out=transposed_out)
    np.testing.assert_allclose(transposed_out, np.einsum("Bij,jk->Bik", a, b), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out", [False, True])
def test_a_long_weight_gradient_sum_run_with_swapped_operands_matches_numpy(dtype, out):
    # a convolution's weight gradient: (o, B h w) @ (B h w, c i j), the columns a transposed
    # view; float32 runs it as (c i j, B h w) @ (B h w, o) and transposes the small result
    from tinynet.engine.contraction import Contraction
    from tinynet.engine.planning import _fewer_rows_first

    rng = np.random.default_rng(2)
    g = rng.standard_normal((8, 6, 10, 10)).astype(dtype)
    cols = rng.standard_normal((3, 5, 5, 8, 10, 10)).astype(dtype)
    spec = "Bohw,cijBhw->ocij"
    target = np.empty((6, 3, 5, 5), dtype) if out else None
    got = Contraction(spec)(g, cols, out=target)
    assert got.dtype == dtype and (not out or got is target)
    np.testing.assert_allclose(got, np.einsum(spec, g.astype(np.float64), cols.astype(np.float64)),
                               rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)
    a, b = np.ones((6, 800), dtype), np.ones((75, 800), dtype).T
    assert _fewer_rows_first(a, b) == (dtype == np.float32)
    assert not _fewer_rows_first(a, np.ones((800, 75), dtype))  # b contiguous along n: no gain
    assert not _fewer_rows_first(np.ones((64, 800), dtype), np.ones((100, 800), dtype).T)  # a large result


@pytest.mark.parametrize("shapes", [((3, 5, 5, 8, 10, 10), (6, 3, 5, 5)), ((2, 3, 4, 8), (5, 2, 3))])
@pytest.mark.parametrize("out", [None, "C", "F"])
def test_free_indices_split_around_the_other_operands_run_as_a_broadcast_matmul(shapes, out):
    # a convolution's forward "cijBhw,ocij->Bohw": o sits between B and h w in the output
    from tinynet.engine.contraction import Contraction
    from tinynet.engine.planning import SPLIT_MIN_COLUMNS

    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal(s) for s in shapes)
    spec = "cijBhw,ocij->Bohw" if a.ndim == 6 else "cBhw,ocB->hocw"
    want = np.einsum(spec, a, b)
    target = None if out is None else np.empty(want.shape, order=out)
    got = Contraction(spec)(a, b, out=target)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert target is None or got is target
    if out is None and a.ndim == 6:
        assert got.flags.c_contiguous and 100 >= SPLIT_MIN_COLUMNS  # written in the output's order


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out", [None, "C", "F"])
def test_a_tiny_result_of_a_long_sum_runs_batched_then_summed(dtype, out):
    # a few-channel convolution's weight gradient: 3 x 4 results, each a sum over 2 x 16 x 16
    from tinynet.engine.contraction import Contraction
    from tinynet.engine.planning import SUMMED_BATCH_MIN, TINY_RESULT

    rng = np.random.default_rng(4)
    g = rng.standard_normal((2, 3, 16, 16)).astype(dtype)
    cols = rng.standard_normal((1, 2, 2, 2, 16, 16)).astype(dtype)
    spec = "Bohw,cijBhw->ocij"
    assert 3 * 4 <= TINY_RESULT and 16 * 16 >= SUMMED_BATCH_MIN
    want = np.einsum(spec, g.astype(np.float64), cols.astype(np.float64))
    target = None if out is None else np.empty(want.shape, dtype, order=out)
    got = Contraction(spec)(g, cols, out=target)
    assert got.dtype == dtype and (target is None or got is target)
    np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)
    swapped = Contraction("cijBhw,Bohw->cijo")(cols, g)  # the result transposed: still right
    np.testing.assert_allclose(swapped, want.transpose(1, 2, 3, 0), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("spec, shape", [("Bohw->o", (4, 3, 5, 6)), ("Bot->o", (2, 7, 3)),
                                         ("aBCd->BC", (2, 3, 4, 5))])
def test_a_sum_around_a_kept_middle_block_matches_numpy(spec, shape):
    from tinynet.engine.contraction import Contraction

    x = np.random.default_rng(5).standard_normal(shape)
    want = np.einsum(spec, x)
    np.testing.assert_allclose(Contraction(spec)(x), want, rtol=1e-12, atol=1e-12)
    out = np.empty(want.shape)
    assert Contraction(spec)(x, out=out) is out
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
