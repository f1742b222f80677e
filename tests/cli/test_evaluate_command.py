"""`tinynet evaluate`: one JSON document with --json (schema in docs/ecosystem.md) whose figures
agree with each other and with the predictions, and rich tables per class and for the confusion
matrix otherwise; regression reports R², MAE and RMSE."""

import csv
import json
import warnings

import numpy as np
import pytest
from helpers.cli_runs import run_cli, write_labelled_csv

QUICK = ["--epochs", "30", "--progress", "none", "--standardize", "--optimizer", "adam", "--lr", "0.01"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("evaluate")
    write_labelled_csv(folder / "train.csv")
    write_labelled_csv(folder / "test.csv", n=90, seed=3)
    from tinynet import cli

    assert cli.main(["train", "--data", str(folder / "train.csv"), "--target", "label", "--save",
                     str(folder / "m.npz"), *QUICK]) == 0
    return folder


def test_json_report_is_one_consistent_document(trained, capsys):
    capsys.readouterr()
    status, out, err = run_cli(["evaluate", trained / "m.npz", "--data", trained / "test.csv", "--json"],
                               capsys)
    assert status == 0 and err == ""
    report = json.loads(out)  # the whole of stdout is the document
    assert set(report) == {"model", "data", "task", "target", "rows", "loss", "metrics", "classes",
                           "averages", "confusion_matrix"}
    assert report["task"] == "classification" and report["rows"] == 90 and report["target"] == "label"
    assert set(report["metrics"]) == {"accuracy", "balanced_accuracy", "macro_f1"}
    confusion = report["confusion_matrix"]
    assert confusion["labels"] == ["bird", "cat", "dog"] == [c["label"] for c in report["classes"]]
    matrix = np.array(confusion["matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == 90
    assert report["metrics"]["accuracy"] == pytest.approx(np.trace(matrix) / 90)
    assert [c["support"] for c in report["classes"]] == matrix.sum(axis=1).tolist()  # rows: true class
    for k, row in enumerate(report["classes"]):
        assert row["recall"] == pytest.approx(matrix[k, k] / matrix[k].sum())
        assert row["precision"] == pytest.approx(matrix[k, k] / matrix[:, k].sum())
    recalls = [c["recall"] for c in report["classes"]]
    assert report["metrics"]["balanced_accuracy"] == pytest.approx(np.mean(recalls))
    assert report["metrics"]["accuracy"] > 0.9 and 0 < report["loss"] < 1


def test_json_agrees_with_predict(trained, capsys):
    _, out, _ = run_cli(["evaluate", trained / "m.npz", "--data", trained / "test.csv", "--json"], capsys)
    report = json.loads(out)
    _, predicted, _ = run_cli(["predict", trained / "m.npz", trained / "test.csv"], capsys)
    with open(trained / "test.csv", newline="") as f:
        truth = [row["label"] for row in csv.DictReader(f)]
    labels = [line for line in predicted.splitlines()[1:]]
    assert report["metrics"]["accuracy"] == pytest.approx(np.mean(np.array(labels) == np.array(truth)))


def test_tables_show_per_class_figures_and_the_confusion_matrix(trained, capsys):
    status, out, _ = run_cli(["evaluate", trained / "m.npz", "--data", trained / "test.csv"], capsys)
    assert status == 0
    for words in ("accuracy", "balanced_accuracy", "per class", "precision", "recall", "support",
                  "macro avg", "weighted avg", "confusion matrix", "true \\ predicted"):
        assert words in out, words
    matrix_lines = [line for line in out.splitlines() if line.startswith(("│ bird", "│ cat"))]
    assert len(matrix_lines) == 4  # each class once in the per-class table, once in the matrix


def test_regression_reports_r2_mae_rmse(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = 3 * x[:, 0] - x[:, 1] + 0.1 * rng.normal(size=200)
    rows = ["a,b,price"] + [f"{a:.5f},{b:.5f},{t:.5f}" for (a, b), t in zip(x, y)]
    (tmp_path / "house.csv").write_text("\n".join(rows) + "\n")
    assert run_cli(["train", "--data", tmp_path / "house.csv", "--target", "price",
                    "--save", tmp_path / "r.npz", *QUICK, "--epochs", "60"], capsys)[0] == 0
    status, out, _ = run_cli(["evaluate", tmp_path / "r.npz", "--data", tmp_path / "house.csv", "--json"],
                             capsys)
    report = json.loads(out)
    assert status == 0 and report["task"] == "regression" and "classes" not in report
    assert set(report["metrics"]) == {"r2", "mae", "rmse"}
    _, predicted, _ = run_cli(["predict", tmp_path / "r.npz", tmp_path / "house.csv"], capsys)
    values = np.array([float(v) for v in predicted.splitlines()[1:]])
    truth = np.array([float(r.split(",")[2]) for r in rows[1:]])
    assert report["metrics"]["mae"] == pytest.approx(np.mean(np.abs(values - truth)), rel=1e-6)
    assert report["metrics"]["rmse"] == pytest.approx(np.sqrt(np.mean((values - truth) ** 2)), rel=1e-6)
    assert report["metrics"]["r2"] == pytest.approx(1 - np.sum((values - truth) ** 2)
                                                    / np.sum((truth - truth.mean()) ** 2), rel=1e-6)
    assert report["metrics"]["r2"] > 0.9


def test_a_class_absent_from_the_data_warns_nothing(trained, capsys):
    lines = (trained / "test.csv").read_text().splitlines()
    (trained / "no-dogs.csv").write_text("\n".join([lines[0]] + [ln for ln in lines[1:] if ln.endswith(",cat")
                                                                 or ln.endswith(",bird")]) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, out, err = run_cli(["evaluate", trained / "m.npz", "--data", trained / "no-dogs.csv",
                                    "--json"], capsys)
    report = json.loads(out)
    assert status == 0 and err == "" and not caught, [str(w.message) for w in caught]
    dog = report["classes"][2]
    assert dog["label"] == "dog" and dog["support"] == 0
    recalls = [c["recall"] for c in report["classes"][:2]]  # the classes present, as scikit-learn's
    assert report["metrics"]["balanced_accuracy"] == pytest.approx(np.mean(recalls))  # balanced accuracy


def test_json_text_is_json_with_plain_lists_on_one_line():
    from tinynet.cli.reports import json_text

    report = {"labels": ["a]", "b\n"], "matrix": [[1, 2], [3, 4]], "loss": float("inf"), "none": {}}
    text = json_text(report)
    assert json.loads(text) == {**report, "loss": None}
    assert '"labels": ["a]", "b\\n"]' in text and "\n    [1, 2],\n    [3, 4]\n" in text
