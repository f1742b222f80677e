"""The examples learn, in their small-epochs mode."""

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_breast_cancer_example_runs_and_learns(capsys):
    result = load_example("breast_cancer").train(epochs=15, progress="none")
    assert result["accuracy"] > 0.9 and 1 <= result["best_epoch"] <= 15
    out = capsys.readouterr().out
    assert "test accuracy" in out and "EarlyStopping:" in out


def test_diabetes_example_runs_and_learns(capsys):
    result = load_example("diabetes").train(epochs=30, progress="none")
    assert result["r2"] > 0.2 and result["rmse"] < 65
    assert "R^2" in capsys.readouterr().out
