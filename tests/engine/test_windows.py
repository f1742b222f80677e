"""The windows primitive: a zero-copy strided view equal to numpy's sliding_window_view (with
stride and dilation), padding as one copy, and add_windows as its exact transpose (col2im)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from tinynet.engine.windows import add_wide_windows, add_windows, pad, windows, windows_out_size


@st.composite
def window_cases(draw):
    n = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(n))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(n))
    spatial = tuple(d * (k - 1) + 1 + draw(st.integers(0, 5)) for k, d in zip(kernel, dilation))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *spatial)
    transposed = draw(st.booleans())  # a non-contiguous input (channels-last memory)
    return shape, kernel, stride, dilation, transposed, draw(st.integers(0, 2**16))


def reference_windows(x, kernel, stride, dilation):
    """sliding_window_view over the dilated span, then every stride-th window and dilation-th tap."""
    n = len(kernel)
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = sliding_window_view(x, spans, axis=tuple(range(x.ndim - n, x.ndim)))
    steps = (slice(None),) * (x.ndim - n) + tuple(slice(None, None, s) for s in stride) \
        + tuple(slice(None, None, d) for d in dilation)
    return view[steps]


@settings(max_examples=40, deadline=None)
@given(case=window_cases())
def test_windows_equal_sliding_window_view_and_copy_nothing(case):
    shape, kernel, stride, dilation, transposed, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if transposed:
        x = np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)
    view = windows(x, kernel, stride, dilation)
    want = reference_windows(x, kernel, stride, dilation)
    assert view.shape == want.shape == (*shape[:2], *(windows_out_size(size, k, s, d) for size, k, s, d
                                                      in zip(shape[2:], kernel, stride, dilation)), *kernel)
    np.testing.assert_array_equal(view, want)
    assert np.shares_memory(view, x) and not view.flags.writeable


@settings(max_examples=30, deadline=None)
@given(case=window_cases())
def test_add_windows_is_the_transpose_of_windows(case):
    """<windows(x), c> == <x, add_windows(c)> for every x and c, and add_windows equals
    np.add.at over the reference's positions."""
    shape, kernel, stride, dilation, _, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    view = windows(x, kernel, stride, dilation)
    cols = rng.standard_normal(view.shape)
    folded = add_windows(cols, shape, stride, dilation)
    assert folded.shape == shape
    np.testing.assert_allclose(np.sum(view * cols), np.sum(x * folded), rtol=1e-10)
    index = np.arange(np.prod(shape)).reshape(shape)
    want = np.zeros(np.prod(shape))
    np.add.at(want, reference_windows(index, kernel, stride, dilation).ravel(), cols.ravel())
    np.testing.assert_allclose(folded.ravel(), want, rtol=1e-12, atol=1e-12)


def test_pad_is_one_copy_and_nothing_without_padding():
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    assert pad(x, ((0, 0), (0, 0))) is x
    padded = pad(x, ((1, 2), (0, 1)), value=-np.inf)
    assert padded.shape == (1, 1, 6, 5) and not np.shares_memory(padded, x)
    np.testing.assert_array_equal(padded[0, 0, 1:4, :4], x[0, 0])
    assert np.isneginf(padded[0, 0, 0]).all() and np.isneginf(padded[0, 0, :, 4]).all()


def test_a_window_larger_than_the_input_is_refused():
    assert windows_out_size(4, 3, 1, 2) == 0 and windows_out_size(5, 3, 2, 2) == 1
    with pytest.raises(ValueError, match=r"kernel spanning \(5, 1\) does not fit .* \(4, 4\)"):
        windows(np.ones((1, 1, 4, 4)), (3, 1), (1, 1), (2, 1))


@settings(max_examples=60, deadline=None)
@given(case=window_cases())
def test_add_wide_windows_equals_add_windows_at_stride_one(case):
    # windows computed over whole rows (zero past the last window) add up to the same gradient
    shape, kernel, _, dilation, _, seed = case
    n = len(kernel)
    out = tuple(windows_out_size(size, k, 1, d) for size, k, d in zip(shape[2:], kernel, dilation))
    cols = np.random.default_rng(seed).standard_normal((*shape[:2], *out, *kernel))
    wide = np.zeros((*shape[:2], out[0], *shape[3:], *kernel))
    wide[(slice(None),) * 3 + tuple(slice(0, o) for o in out[1:])] = cols
    want = add_windows(cols, shape, (1,) * n, dilation)
    np.testing.assert_allclose(add_wide_windows(wide, shape, dilation), want, rtol=1e-12, atol=1e-12)
    if n == 2 and out[1] != shape[3]:
        with pytest.raises(ValueError, match="do not span"):
            add_wide_windows(cols, shape, dilation)
