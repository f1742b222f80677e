"""DataLoader over arrays in a file mapping: no copy, checks chunk by chunk, a cast per batch,
pages released as they add up. (Same batches as in memory: tests/data/test_loader.py.)"""

import pickle
import sys

import numpy as np
import pytest
from helpers.errors import error_text

import tinynet as tn
from tinynet.data import mapped


def saved(tmp_path, array, name="x.npy", mode="r"):
    np.save(tmp_path / name, array)
    return np.load(tmp_path / name, mmap_mode=mode)


def test_the_loader_keeps_the_file_and_cuts_views_of_it(tmp_path):
    x = saved(tmp_path, np.arange(40.0).reshape(20, 2))
    loader = tn.DataLoader(x, np.arange(20), batch_size=8)
    assert np.shares_memory(loader.x, x) and not loader.x.flags.writeable
    batches = list(loader)
    assert [len(yb) for _, yb in batches] == [8, 8, 4]
    for xb, _ in batches:  # unshuffled, no cast: zero-copy views, plain ndarrays, read-only
        assert type(xb) is np.ndarray and np.shares_memory(xb, x) and not xb.flags.writeable
    np.testing.assert_array_equal(batches[1][0], x[8:16])
    assert mapped.file_mapping(x[2:5])[0] and mapped.file_mapping(np.asarray(x))[0]
    assert mapped.file_mapping(np.ones(3)) == (False, None)


def test_dtypes_are_kept_or_cast_per_batch_as_in_memory(tmp_path):
    ints = saved(tmp_path, np.arange(12).reshape(6, 2), "i.npy")
    assert next(iter(tn.DataLoader(ints, np.zeros(6), batch_size=4)))[0].dtype == np.int64  # token ids
    flags = saved(tmp_path, np.eye(6, 2, dtype=bool), "b.npy")
    xb, _ = next(iter(tn.DataLoader(flags, np.zeros(6), batch_size=4)))
    assert xb.dtype == np.float64 and xb[0, 0] == 1.0
    wide = saved(tmp_path, np.linspace(0, 1, 12).reshape(6, 2), "f.npy")
    loader = tn.DataLoader(wide, np.zeros(6), batch_size=4)
    narrow = loader.with_dtype(np.float32)  # what fit does for a float32 model
    assert narrow.x.dtype == np.float64 and np.shares_memory(narrow.x, wide)  # the file, not a copy
    assert [xb.dtype for xb, _ in narrow] == [np.float32, np.float32]
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in narrow]), wide.astype(np.float32))


def test_checks_run_chunk_by_chunk_and_name_the_index(tmp_path, monkeypatch):
    monkeypatch.setattr(mapped, "CHUNK_BYTES", 3 * 2 * 8)  # three rows per chunk
    x = np.ones((10, 2))
    x[7, 1] = np.nan
    with pytest.raises(ValueError) as caught:
        tn.DataLoader(saved(tmp_path, x), np.zeros(10))
    assert "DataLoader x contains NaN or inf (first at index (7, 1))" in error_text(caught)
    y = np.zeros(10)
    y[8] = np.inf
    with pytest.raises(ValueError, match=r"DataLoader y contains NaN or inf \(first at index \(8,\)\)"):
        tn.DataLoader(np.ones((10, 2)), saved(tmp_path, y, "y.npy"))
    with pytest.raises(TypeError, match="DataLoader x must hold numbers, got an array of dtype <U1"):
        tn.DataLoader(saved(tmp_path, np.array([["a"], ["b"]]), "s.npy"), np.zeros(2))
    with pytest.raises(ValueError, match=r"DataLoader x must be at least 2-D, got shape \(10,\)"):
        tn.DataLoader(saved(tmp_path, np.ones(10), "v.npy"), np.zeros(10))
    with pytest.raises(ValueError, match=r"x and y must have the same number of rows"):
        tn.DataLoader(saved(tmp_path, np.ones((10, 2)), "r.npy"), np.zeros(9))


def test_a_cast_reads_the_file_again_only_to_name_a_value_out_of_range(tmp_path, monkeypatch):
    read = []  # each chunked pass over the file asks _chunk_rows once
    monkeypatch.setattr(mapped, "_chunk_rows", lambda view: read.append(view) or 2)
    fine = tn.DataLoader(saved(tmp_path, np.ones((8, 2))), np.zeros(8, int))
    assert len(read) == 1
    fine.with_dtype(np.float32)  # the range found by the checks says every value fits
    assert len(read) == 1
    x = np.ones((8, 2))
    x[5, 1] = -1e39
    loader = tn.DataLoader(saved(tmp_path, x, "big.npy"), np.zeros(8, int))
    with pytest.raises(ValueError, match=r"x holds -1e\+39 at index \(5, 1\), which is inf in float32"):
        loader.with_dtype(np.float32)
    assert len(read) == 3


def test_a_mapped_loader_is_not_pickled(tmp_path):
    loader = tn.DataLoader(saved(tmp_path, np.ones((4, 2))), np.zeros(4))
    with pytest.raises(TypeError, match=r"cannot be pickled: its data would be copied"):
        pickle.dumps(loader)


def file_pages() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[2]) * mapped._PAGE_BYTES


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_memory_stays_bounded_whichever_way_the_rows_are_read(tmp_path, monkeypatch):
    """The checks and one shuffled epoch over a 32 MB file keep under 12 MB of it mapped with a
    4 MiB budget: rows read from the file directly, or (every other column: not one run of
    bytes per row) through the mapping, counted and released. In copy-on-write mode, whose
    pages must not be released, all of it stays mapped."""
    monkeypatch.setattr(mapped, "CHUNK_BYTES", 4 * 2**20)
    rows, width = 512, 16384  # rows of 64 KiB
    np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=(rows, width)).flush()
    y = np.zeros(rows, dtype=np.int64)
    peaks = {}
    for case, mode in (("file", "r"), ("mapping", "r"), ("copy-on-write", "c")):
        before = file_pages()
        x = np.load(tmp_path / "x.npy", mmap_mode=mode)
        x = x[:, ::2] if case == "mapping" else x
        assert (mapped.file_rows(x) is not None) == (case == "file")
        loader = tn.DataLoader(x, y, batch_size=8, shuffle=True, rng=0)  # its checks read the file
        peak = file_pages() - before
        for _batch in loader:
            peak = max(peak, file_pages() - before)
        peaks[case] = peak / 2**20
        del loader, x
    assert peaks["file"] < 12 and peaks["mapping"] < 12 and peaks["copy-on-write"] > 24, peaks


def test_rows_read_from_the_file_see_writes_through_the_mapping(tmp_path):
    x = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=(6, 2))
    x[:] = 1.0
    loader = tn.DataLoader(x, np.arange(6), batch_size=3, shuffle=True, rng=0)
    x[4] = 7.0  # not flushed: the file and the mapping share the page cache
    rows = {int(yb[i]): xb[i] for xb, yb in loader for i in range(len(yb))}
    np.testing.assert_array_equal(rows[4], [7.0, 7.0])


def test_a_file_written_over_after_np_load_is_not_read_in_place_of_the_mapping(tmp_path):
    """Rows are read from the path only while it names the mapped file: after the path is
    replaced or removed, the mapping (the data np.load opened) is read."""
    x = saved(tmp_path, np.arange(20.0).reshape(10, 2))
    reader = mapped.BatchReader([x])
    assert reader._files[0] is not None  # the file itself: rows by preadv
    reader.close()
    (tmp_path / "x.npy").rename(tmp_path / "old.npy")
    np.save(tmp_path / "x.npy", np.zeros((10, 2)))
    reader = mapped.BatchReader([x])
    assert reader._files == [None]
    reader.close()
    loader = tn.DataLoader(x, np.arange(10), batch_size=4, shuffle=True, rng=0)
    for xb, yb in loader:
        np.testing.assert_array_equal(xb[:, 0], 2.0 * yb)


def test_fit_and_evaluate_over_a_memmap_match_the_run_in_memory(tmp_path):
    """A float32 model trained on a float64 file (each batch cast) and evaluated on it, with the
    file also as validation data, gives the in-memory run's numbers exactly."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((90, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    on_disk = saved(tmp_path, x)
    results = []
    for data in (x, on_disk):
        model = tn.Sequential([tn.Dense(3, 4, rng=0, dtype=np.float32), tn.Tanh(),
                               tn.Dense(4, 2, rng=1, dtype=np.float32)])
        loss = tn.SoftmaxCrossEntropy()
        history = tn.fit(model, loss, tn.SGD(model.parameters(), lr=0.1),
                         tn.DataLoader(data, y, batch_size=16, shuffle=True, rng=3), 3,
                         validation_data=(data, y), progress="none")
        results.append((history.loss, history["val_loss"], tn.evaluate(model, loss, data, y)))
    assert results[0] == results[1]
    assert results[1][0][-1] < results[1][0][0]
