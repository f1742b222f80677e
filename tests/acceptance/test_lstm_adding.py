"""examples/lstm_adding.py learns the adding problem (a task that needs memory) in its short form."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lstm_adding.py"


def load_example():
    spec = importlib.util.spec_from_file_location("lstm_adding", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_short_adding_problem_is_solved():
    example = load_example()
    result = example.train(**example.QUICK, progress="none")
    # predicting the mean scores ~1/6; remembering both marked numbers scores near 0
    assert 0.15 < result["baseline"] < 0.19
    assert result["mse"] < 0.02 and result["mse"] < 0.1 * result["baseline"]


def test_the_data_marks_one_number_in_each_half():
    import numpy as np

    x, y = load_example().adding_problem(50, 12, np.random.default_rng(0))
    assert x.shape == (50, 12, 2) and y.shape == (50, 1) and x.dtype == y.dtype == np.float32
    markers = x[:, :, 1]
    assert np.all(markers[:, :6].sum(axis=1) == 1) and np.all(markers[:, 6:].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
