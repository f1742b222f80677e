"""DataLoader: strided zero-copy batches, last-batch policies, shuffling."""

import numpy as np
import pytest
from helpers.errors import error_text
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn


@settings(max_examples=120, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.one_of(st.none(), st.integers(1, 45)),
       last_batch=st.sampled_from(["keep", "drop", "fill"]), shuffle=st.booleans(),
       seed=st.integers(0, 1000))
def test_every_row_once_per_epoch(n, batch_size, last_batch, shuffle, seed):
    x = np.arange(n, dtype=np.float64).reshape(n, 1) * np.ones((1, 3))
    y = np.arange(n)
    bs = n if batch_size is None else batch_size
    if last_batch in ("drop", "fill") and bs > n:  # no batch at all, or a batch of repeated rows
        with pytest.raises(ValueError, match="batch_size"):
            tn.DataLoader(x, y, batch_size=batch_size, last_batch=last_batch)
        return
    loader = tn.DataLoader(x, y, batch_size=batch_size, shuffle=shuffle, last_batch=last_batch, rng=seed)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        rows = np.concatenate([xb[:, 0] for xb, _ in batches]).astype(int)
        labels = np.concatenate([yb for _, yb in batches])
        np.testing.assert_array_equal(rows, labels)  # x and y stay paired
        full = (n // bs) * bs
        if last_batch == "drop":
            assert len(rows) == full and len(set(rows)) == full
        elif last_batch == "keep":
            assert sorted(rows) == list(range(n))
        else:
            assert len(rows) == len(batches) * bs
            assert set(range(n)) <= set(rows)  # every row, plus filler rows from the data
            assert set(rows) <= set(range(n))
        assert all(len(xb) <= bs for xb, _ in batches)
        assert sum(len(xb) for xb, _ in batches) == loader.samples_per_epoch()


def test_batches_are_zero_copy_views_without_shuffle():
    x = np.random.default_rng(0).standard_normal((100, 4))
    y = np.arange(100)
    loader = tn.DataLoader(x, y, batch_size=32, last_batch="keep")
    batches = list(loader)
    assert [len(b) for b, _ in batches] == [32, 32, 32, 4]
    for xb, yb in batches:
        assert np.shares_memory(xb, x) and np.shares_memory(yb, y)
        assert not xb.flags.writeable
    np.testing.assert_array_equal(batches[1][0], x[32:64])


def test_shuffle_is_a_fresh_permutation_per_epoch_and_reproducible():
    x, y = np.arange(50.0).reshape(50, 1), np.arange(50)
    a = tn.DataLoader(x, y, batch_size=10, shuffle=True, rng=7)
    b = tn.DataLoader(x, y, batch_size=10, shuffle=True, rng=7)
    epoch1 = np.concatenate([yb for _, yb in a])
    epoch2 = np.concatenate([yb for _, yb in a])
    assert not np.array_equal(epoch1, epoch2)
    np.testing.assert_array_equal(epoch1, np.concatenate([yb for _, yb in b]))


def test_full_batch_and_sgd():
    x, y = np.ones((10, 2)), np.zeros(10, dtype=int)
    assert len(tn.DataLoader(x, y, batch_size=None)) == 1
    assert len(tn.DataLoader(x, y, batch_size=1)) == 10
    assert len(tn.DataLoader(x, y, batch_size=3, last_batch="drop")) == 3
    assert len(tn.DataLoader(x, y, batch_size=3, last_batch="fill")) == 4


def test_dtype_and_integer_inputs():
    loader = tn.DataLoader(np.ones((4, 2), dtype=int), np.zeros(4, dtype=int), dtype=np.float32)
    xb, yb = next(iter(loader))
    assert xb.dtype == np.float32 and yb.dtype.kind == "i"
    # Without dtype, integer inputs stay integers (token ids); fit casts them for a float model.
    assert tn.DataLoader(np.ones((4, 2), dtype=int), np.zeros(4)).x.dtype == np.int64
    assert tn.DataLoader(np.ones((4, 2), dtype=bool), np.zeros(4)).x.dtype == np.float64


def test_one_hot():
    np.testing.assert_array_equal(tn.one_hot(np.array([0, 2, 1]), 3),
                                  [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert tn.one_hot(np.array([1]), 2, np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        tn.one_hot(np.array([0, 2]), 2)


def test_dataloader_length_mismatch():
    with pytest.raises(ValueError) as err:
        tn.DataLoader(np.ones((10, 4)), np.zeros(9))
    text = error_text(err)
    assert "DataLoader" in text and "(10, 4)" in text and "(9,)" in text


def test_batch_size_and_last_batch_are_validated():
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        tn.DataLoader(np.ones((3, 2)), np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="did you mean 'drop'"):
        tn.DataLoader(np.ones((3, 2)), np.zeros(3), last_batch="dorp")


@settings(max_examples=40)
@given(n=st.integers(1, 40), batch=st.integers(1, 50), shuffle=st.booleans(),
       last=st.sampled_from(["keep", "drop", "fill"]), as_dict=st.booleans())
def test_several_inputs_stay_row_aligned_in_every_batch(n, batch, shuffle, last, as_dict):
    """Each batch of a tuple or dict of inputs holds the same rows of every input and y."""
    if last in ("drop", "fill") and batch > n:  # refused: see test_every_row_once_per_epoch
        return
    ids = np.arange(n)
    a = np.stack([ids, ids], axis=1).astype(float)          # (n, 2): row id twice
    b = ids.reshape(n, 1, 1).astype(float) * np.ones((1, 3, 2))  # (n, 3, 2): row id everywhere
    x = {"a": a, "b": b} if as_dict else (a, b)
    loader = tn.DataLoader(x, ids, batch_size=batch, shuffle=shuffle, last_batch=last, rng=0)
    seen = 0
    for xb, yb in loader:
        first, second = (xb["a"], xb["b"]) if as_dict else xb
        assert isinstance(xb, dict if as_dict else tuple)
        np.testing.assert_array_equal(first[:, 0], yb)
        np.testing.assert_array_equal(second[:, 2, 1], yb)
        seen += len(yb)
    assert seen == loader.samples_per_epoch() and len(list(loader)) == len(loader)


def test_several_inputs_are_validated_by_name_and_not_copied():
    a, b = np.ones((6, 2)), np.zeros((6, 3))
    loader = tn.DataLoader({"a": a, "b": b}, np.zeros(6), batch_size=4)
    xb, _ = next(iter(loader))
    assert np.shares_memory(xb["a"], a) and np.shares_memory(xb["b"], b)
    assert "inputs=['a', 'b']" in repr(loader)
    with pytest.raises(ValueError, match=r"x\['b'\] and y must have the same number of rows"):
        tn.DataLoader({"a": a, "b": b[:5]}, np.zeros(6))
    with pytest.raises(ValueError, match=r"DataLoader x\['a'\] contains NaN"):
        tn.DataLoader({"a": a * np.nan, "b": b}, np.zeros(6))
    with pytest.raises(ValueError, match="at least one input"):
        tn.DataLoader({}, np.zeros(6))


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "memmap"])
def test_values_are_checked_after_the_cast_to_the_loaders_dtype(on_disk, tmp_path):
    x = np.ones((4, 2))
    x[1, 1] = 1e39
    if on_disk:  # the same messages for an array in a file, checked chunk by chunk
        np.save(tmp_path / "x.npy", x)
        x = np.load(tmp_path / "x.npy", mmap_mode="r")
    with pytest.raises(ValueError) as caught:
        tn.DataLoader(x, np.zeros(4, int), dtype=np.float32)
    assert "x holds 1e+39 at index (1, 1), which is inf in float32" in error_text(caught)
    loader = tn.DataLoader(x, np.zeros(4, int))  # float64 holds it
    with pytest.raises(ValueError, match="which is inf in float32"):
        loader.with_dtype(np.float32)


def test_a_fill_batch_larger_than_the_data_is_refused():
    with pytest.raises(ValueError) as caught:
        tn.DataLoader(np.ones((12, 2)), np.zeros(12), batch_size=10**6, last_batch="fill")
    assert ("batch_size=1000000 is larger than the 12 rows and last_batch='fill' would repeat rows"
            in error_text(caught))


def test_one_hot_checks_its_size_before_allocating():
    with pytest.raises(ValueError, match=r"one_hot: an array of shape \(2, 1000000000001\) \(float64\) needs "
                                         r"16,000,000,000,016 bytes"):
        tn.one_hot(np.array([0, 10**12]))


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("mapped")


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), batch=st.integers(1, 45), shuffle=st.booleans(),
       last=st.sampled_from(["keep", "drop", "fill"]), seed=st.integers(0, 1000),
       file_dtype=st.sampled_from(["float64", "float32", "int32"]),
       dtype=st.sampled_from([None, "float32", "float64"]),
       layout=st.sampled_from(["one", "tuple", "y", "columns"]))
def test_a_memmap_gives_the_in_memory_batches_bit_for_bit(disk, n, batch, shuffle, last, seed, file_dtype,
                                                          dtype, layout):
    """Over arrays in a file (np.load mmap_mode='r'), the loader gives the batches it gives over
    the same arrays in memory, for the same seed: same rows, same dtype, same bits."""
    if last in ("drop", "fill") and batch > n:  # refused: see test_every_row_once_per_epoch
        return
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, 3)) * 100).astype(file_dtype)
    z = rng.standard_normal((n, 2, 2))
    y = rng.standard_normal(n) if layout == "y" else np.arange(n)
    np.save(disk / "x.npy", x)
    np.save(disk / "y.npy", y)
    xm, ym = np.load(disk / "x.npy", mmap_mode="r"), np.load(disk / "y.npy", mmap_mode="r")
    if layout == "tuple":  # a mapped input next to one in memory
        memory, mapped = (x, z), (xm, z)
    elif layout == "y":  # x in memory, only the targets mapped
        memory, mapped = x, x
    elif layout == "columns":  # rows that are not one run of bytes: read through the mapping
        memory, mapped = x[:, ::2], xm[:, ::2]
    else:
        memory, mapped = x, xm
    options = dict(batch_size=batch, shuffle=shuffle, last_batch=last, dtype=dtype)
    expected = tn.DataLoader(memory, y, rng=seed, **options)
    loader = tn.DataLoader(mapped, ym, rng=seed, **options)
    assert loader._mapped is not None and expected._mapped is None
    for _ in range(2):  # a second epoch: a fresh permutation from the same generator state
        got, want = list(loader), list(expected)
        assert len(got) == len(want) == len(loader)
        for (xb, yb), (xe, ye) in zip(got, want):
            for b, e in zip(xb if layout == "tuple" else [xb], xe if layout == "tuple" else [xe]):
                assert type(b) is np.ndarray and b.dtype == e.dtype
                np.testing.assert_array_equal(b, e, strict=True)
            np.testing.assert_array_equal(yb, ye, strict=True)
