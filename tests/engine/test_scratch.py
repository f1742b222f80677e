"""ScratchPool: arrays given back are taken again (same shape and dtype only), at most
``limit`` are kept, and a copy of a pool is empty."""

import copy
import pickle

import numpy as np

from tinynet.engine.scratch import ScratchPool


def test_a_given_array_is_taken_again_only_for_its_shape_and_dtype():
    pool = ScratchPool()
    first = pool.take((3, 4), np.dtype(np.float32))
    assert first.shape == (3, 4) and first.dtype == np.float32
    pool.give(first)
    assert pool.take((4, 3), np.dtype(np.float32)) is not first
    assert pool.take((3, 4), np.dtype(np.float64)) is not first
    assert pool.take((3, 4), np.dtype(np.float32)) is first
    assert len(pool) == 0 and pool.take((3, 4), np.dtype(np.float32)) is not first


def test_the_pool_keeps_at_most_limit_arrays_the_newest():
    pool = ScratchPool(limit=2)
    arrays = [np.empty(n) for n in (1, 2, 3)]
    for array in arrays:
        pool.give(array)
    assert len(pool) == 2
    assert pool.take((1,), np.dtype(np.float64)) is not arrays[0]
    assert pool.take((3,), np.dtype(np.float64)) is arrays[2]


def test_copies_and_pickles_start_empty():
    pool = ScratchPool(limit=3)
    pool.give(np.empty(5))
    for other in (copy.deepcopy(pool), pickle.loads(pickle.dumps(pool))):
        assert len(other) == 0 and other.limit == 3
