"""The command's own split picks the same rows in the same order as scikit-learn's
train_test_split (so the article's run stays bit-exact without importing model_selection)."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from tinynet.cli.splits import held_out_rows


@pytest.mark.parametrize("n", [2, 3, 10, 99, 100, 150, 1000])
@pytest.mark.parametrize("fraction", [0.01, 0.1, 0.2, 0.25, 0.33, 0.5, 0.9])
@pytest.mark.parametrize("seed", [0, 42, 2**31 - 1])
def test_the_same_rows_as_train_test_split(n, fraction, seed):
    rows = np.arange(n)
    try:
        kept_sk, held_sk = train_test_split(rows, test_size=fraction, shuffle=True, random_state=seed)
    except ValueError:  # scikit-learn refuses an empty side; so does the command, earlier
        return
    kept, held = held_out_rows(n, fraction, seed)
    np.testing.assert_array_equal(kept, kept_sk)
    np.testing.assert_array_equal(held, held_sk)


def test_a_fraction_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="fraction must be in"):
        held_out_rows(10, 1.0, 0)
