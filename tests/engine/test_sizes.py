"""Sizes checked before allocating: the machine's memory, and the budget tn.load sets."""

import numpy as np
import pytest

from tinynet.engine.sizes import BudgetExceeded, allocation_budget, check_size, memory_limit


def test_an_array_larger_than_the_machine_is_refused_naming_its_bytes():
    rows = memory_limit() // 8 + 1
    with pytest.raises(ValueError, match=rf"Dense init: an array of shape \({rows}, 1\) \(float64\) needs "
                                         rf"{rows * 8:,} bytes, more than this machine's"):
        check_size((rows, 1), np.float64, "Dense init")
    assert check_size((3, 4), np.float32, "x") == 48


def test_inside_a_budget_the_sizes_add_up_until_it_is_spent():
    with allocation_budget(100, "the 100 bytes the file lists"):
        assert check_size((5,), np.float64, "a") == 40
        assert check_size((5,), np.float64, "b") == 40
        with pytest.raises(BudgetExceeded, match=r"c: an array of shape \(5,\) needs 40 bytes, more than "
                                                 r"the 100 bytes the file lists"):
            check_size((5,), np.float64, "c")
    check_size((10**6,), np.float64, "after")  # the budget ends with its block


def test_budgets_nest_and_restore():
    with allocation_budget(16, "outer"):
        with allocation_budget(1000, "inner"):
            check_size((100,), np.float64, "inner array")
        with pytest.raises(BudgetExceeded, match="outer"):
            check_size((3,), np.float64, "outer array")
