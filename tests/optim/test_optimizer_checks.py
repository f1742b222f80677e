"""SGD refuses a bad learning rate; Adam's step needs one scratch array per parameter."""

import numpy as np
import pytest
from helpers.memory import peak_allocation

import tinynet as tn


def test_sgd_refuses_a_learning_rate_that_is_not_positive():
    params = tn.Dense(2, 2).parameters()
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got -0.1"):
        tn.SGD(params, lr=-0.1)


@pytest.mark.parametrize("cls", [tn.Adam, tn.AdamW])
def test_adam_step_needs_one_scratch_array_per_parameter(cls):
    param = tn.Parameter(np.random.default_rng(0).standard_normal(200_000))
    param.grad[...] = np.random.default_rng(1).standard_normal(200_000)
    optimizer = cls([param], lr=0.01)
    optimizer.step()  # the first step allocates the state m and v
    peak = peak_allocation(optimizer.step)
    assert peak < 1.5 * param.data.nbytes, peak / param.data.nbytes
