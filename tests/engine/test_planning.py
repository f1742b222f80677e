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
