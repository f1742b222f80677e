"""examples/cnn_digits.py learns: its full run (15 epochs) reaches >= 0.98 held-out accuracy on
scikit-learn's digits (measured 0.985-0.993 over seeds 0-3, 5-12 s); the suite runs a
shortened variant of the same function, and checks the CNN's shapes and summary."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cnn_digits.py"


def load_example():
    spec = importlib.util.spec_from_file_location("cnn_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cnn_learns_the_digits_in_a_shortened_run(capsys):
    example = load_example()
    result = example.train(epochs=6, seed=0, progress="none")
    assert result["accuracy"] >= 0.97, result
    assert "held-out loss" in capsys.readouterr().out


def test_the_split_is_stratified_30_percent_and_the_images_are_8x8():
    example = load_example()
    x_train, x_test, y_train, y_test = example.load(0)
    assert x_train.shape[1:] == x_test.shape[1:] == (1, 8, 8)
    assert len(y_test) == 540 and len(y_train) == 1257
    np.testing.assert_allclose(np.bincount(y_test) / len(y_test), np.bincount(y_train) / len(y_train),
                               atol=0.01)
    model = example.cnn(np.random.default_rng(0))
    assert model.output_shape((None, 1, 8, 8)) == (None, 10)
    assert model(x_test[:3].astype(np.float32)).dtype == np.float32
