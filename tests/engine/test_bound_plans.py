"""Contraction and Plans: an einsum spec bound to one call site gives einsum's results."""

import copy
import pickle

import numpy as np
import pytest

from tinynet.engine.contraction import Contraction, Plans, einsum


@pytest.mark.parametrize("spec, rounds", [
    ("...i,oi->...o", [[(5, 4), (3, 4)], [(7, 4), (3, 4)], [(2, 5, 4), (3, 4)]]),
    ("...o,...i->oi", [[(5, 3), (5, 4)], [(9, 3), (9, 4)], [(2, 5, 3), (2, 5, 4)]]),
    ("...o->o", [[(6, 3)], [(2, 3)], [(2, 6, 3)]]),
    ("Nc->N", [[(6, 3)], [(4, 2)]]),
    ("bij,bjk->bik", [[(2, 3, 4), (2, 4, 5)], [(3, 3, 4), (3, 4, 2)]]),
])
def test_a_contraction_equals_einsum_for_every_shape_it_meets(spec, rounds):
    rng = np.random.default_rng(0)
    contraction = Contraction(spec)
    for shapes in [*rounds, rounds[0]]:  # planned, re-planned for new shapes, then the first again
        operands = [rng.standard_normal(shape) for shape in shapes]
        np.testing.assert_array_equal(contraction(*operands), einsum(spec, *operands))


def test_out_is_written_and_float32_stays_float32():
    rng = np.random.default_rng(1)
    g, x = rng.standard_normal((8, 3), dtype=np.float32), rng.standard_normal((8, 4), dtype=np.float32)
    out = np.empty((3, 4), np.float32)
    contraction = Contraction("...o,...i->oi")
    for _ in range(2):
        assert contraction(g, x, out=out) is out
        np.testing.assert_array_equal(out, einsum("...o,...i->oi", g, x))
    assert contraction(g, x).dtype == np.float32


def test_a_new_dtype_is_planned_anew():
    contraction = Contraction("Nc->N")
    x = np.arange(6.0).reshape(2, 3)
    assert contraction(x).dtype == np.float64
    assert contraction(x.astype(np.float32)).dtype == np.float32


def test_a_bad_spec_fails_when_bound_and_a_size_mismatch_names_the_index():
    with pytest.raises(ValueError, match="not an index letter"):
        Contraction("ab,b1->a")
    with pytest.raises(ValueError, match="index 'i'"):
        Contraction("Bi,oi->Bo")(np.ones((2, 3)), np.ones((4, 5)))


def test_plans_make_one_contraction_per_spec_and_copies_plan_afresh():
    plans = Plans()
    assert plans["Bi,oi->Bo"] is plans["Bi,oi->Bo"]
    x, w = np.ones((2, 3)), np.ones((4, 3))
    plans["Bi,oi->Bo"](x, w)
    for twin in (copy.deepcopy(plans), pickle.loads(pickle.dumps(plans))):
        assert repr(twin["Bi,oi->Bo"].__self__) == "Contraction('Bi,oi->Bo')"
        np.testing.assert_array_equal(twin["Bi,oi->Bo"](x, w), x @ w.T)
