"""The shared stable functions: sigmoid, softmax, log_softmax and row_max."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn
from tinynet.engine import stable_functions as F


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_softmax_and_log_softmax_are_stable_and_keep_the_dtype(dtype):
    x = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        s, p, logp = F.sigmoid(x), F.softmax(x), F.log_softmax(x)
    assert s.dtype == p.dtype == logp.dtype == dtype
    np.testing.assert_allclose(s, [[0.0, 9.357623e-14, 0.5, 1.0, 1.0]], rtol=1e-6, atol=0)
    np.testing.assert_allclose(p, [[0, 0, 0, 0, 1]], atol=1e-30)
    np.testing.assert_allclose(logp[0, -2:], [-970.0, 0.0])
    np.testing.assert_array_equal(tn.Sigmoid().forward(x), s)
    np.testing.assert_array_equal(tn.Softmax().forward(x), p)


@given(rows=st.integers(1, 70), cols=st.integers(1, 40), lead=st.sampled_from([(), (2,)]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
@settings(max_examples=60, deadline=None)
def test_row_max_equals_numpy_max_over_the_last_axis(rows, cols, lead, dtype, seed):
    """Both of its paths (the transposed copy for few columns, numpy's own otherwise)."""
    x = np.random.default_rng(seed).standard_normal((*lead, rows, cols)).astype(dtype)
    got = F.row_max(x)
    assert got.dtype == dtype and got.shape == (*lead, rows, 1)
    np.testing.assert_array_equal(got, x.max(axis=-1, keepdims=True))
