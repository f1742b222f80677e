"""The contraction engine equals np.einsum on random specs, shapes and dtypes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet.engine import contraction
from tinynet.engine.contraction import einsum

LETTERS = "abcdef"


@st.composite
def pair_specs(draw):
    """A two-operand spec with random batch, contracted, free and summed-away indices."""
    a = draw(st.lists(st.sampled_from(LETTERS), min_size=0, max_size=4, unique=True))
    b = draw(st.lists(st.sampled_from(LETTERS), min_size=0, max_size=4, unique=True))
    letters = sorted(set(a) | set(b))
    out = draw(st.lists(st.sampled_from(letters), unique=True, max_size=len(letters))) if letters else []
    sizes = {c: draw(st.integers(1, 4)) for c in letters}
    spec = f"{''.join(a)},{''.join(b)}->{''.join(out)}"
    return spec, tuple(sizes[c] for c in a), tuple(sizes[c] for c in b)


@settings(max_examples=200, deadline=None)
@given(case=pair_specs(), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 99))
def test_pairs_match_numpy(case, dtype, seed):
    spec, shape_a, shape_b = case
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape_a).astype(dtype)
    b = rng.standard_normal(shape_b).astype(dtype)
    got = einsum(spec, a, b)
    want = np.einsum(spec, a, b)
    assert got.shape == want.shape
    assert got.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("spec,shapes", [
    ("Bo->o", [(5, 3)]), ("abc->b", [(2, 3, 4)]), ("abc->ca", [(2, 3, 4)]), ("ij->ji", [(2, 3)]),
    ("ii->i", [(3, 3)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("...i,oi->...o", [(2, 3, 4), (5, 4)]),
    ("Bi,oi", [(3, 4), (2, 4)]), ("Bhi,hoi->Bho", [(5, 2, 3), (2, 4, 3)]),
])
def test_other_forms_match_numpy(spec, shapes):
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s) for s in shapes]
    np.testing.assert_allclose(einsum(spec, *ops), np.einsum(spec, *ops), rtol=1e-12, atol=1e-12)


def test_dense_specs_run_as_blas_without_copies():
    """The planned runner hands matmul transposed views: the result equals x @ W.T exactly."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((64, 30)), rng.standard_normal((20, 30))
    np.testing.assert_array_equal(einsum("Bi,oi->Bo", x, w), x @ w.T)
    g = rng.standard_normal((64, 20))
    np.testing.assert_array_equal(einsum("Bo,Bi->oi", g, x), g.T @ x)
    np.testing.assert_array_equal(einsum("Bo,oi->Bi", g, w), g @ w)


def test_plans_are_cached_per_shape_and_dtype():
    contraction.clear_cache()
    x = np.ones((4, 3))
    einsum("Bi,oi->Bo", x, np.ones((2, 3)))
    einsum("Bi,oi->Bo", x, np.ones((2, 3)))
    assert contraction.cache_size() == 1
    einsum("Bi,oi->Bo", x.astype(np.float32), np.ones((2, 3), np.float32))
    assert contraction.cache_size() == 2


@pytest.mark.parametrize("spec,shapes,words", [
    ("ab,bc->ac", [(2, 3)], "names 2 operand"),
    ("ab,bc->ac", [(2, 3), (4, 5)], "index 'b' has size 3"),
    ("ab,bc->az", [(2, 3), (3, 5)], "output index 'z'"),
    ("a1,bc->a", [(2, 3), (3, 5)], "not an index letter"),
    ("abc,bc->a", [(2, 3), (3, 5)], "has 3 indices"),
])
def test_bad_specs_name_the_problem(spec, shapes, words):
    with pytest.raises(ValueError, match=words):
        einsum(spec, *[np.ones(s) for s in shapes])
